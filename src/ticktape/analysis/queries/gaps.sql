-- Where data is missing: reconnects, missing seq numbers, exchange-reported gaps (the gaps view),
-- plus silences: 5 s or more without a data frame on a live connection.
-- requires: raw, gaps
WITH data_rows AS (
    SELECT exchange, stream, conn_id, recv_ns,
           lag(recv_ns) OVER (PARTITION BY exchange, conn_id ORDER BY recv_ns, seq) AS prev_ns
    FROM raw
    WHERE kind = 'data'
), silences AS (
    SELECT 'silence' AS kind, exchange, stream, conn_id, prev_ns AS start_ns, recv_ns AS end_ns,
           (recv_ns - prev_ns) / 1e9 AS duration_s,
           make_timestamp_ns(prev_ns) AS start_ts, make_timestamp_ns(recv_ns) AS end_ts,
           'no data for ' || round((recv_ns - prev_ns) / 1e9, 3) || ' s' AS detail
    FROM data_rows
    WHERE recv_ns - prev_ns >= 5000000000
)
SELECT * FROM gaps
UNION ALL
SELECT * FROM silences
ORDER BY start_ns, exchange, conn_id, kind
