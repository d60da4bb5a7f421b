-- Exchange-to-local latency (recv_ns - exch_ns, in ms) percentiles by exchange and hour.
-- Includes the offset between the exchange's clock and ours; Binance spot bookTicker carries no
-- exchange time, so Binance figures come from trades only.
-- requires: quotes, trades
WITH samples AS (
    SELECT exchange, recv_ns, (recv_ns - exch_ns) / 1e6 AS latency_ms
    FROM quotes WHERE exch_ns IS NOT NULL
    UNION ALL
    SELECT exchange, recv_ns, (recv_ns - exch_ns) / 1e6
    FROM trades WHERE exch_ns IS NOT NULL
)
SELECT make_timestamp((recv_ns // 3600000000000) * 3600000000) AS hour,
       exchange,
       count(*) AS samples,
       min(latency_ms) AS min_ms,
       quantile_cont(latency_ms, 0.5) AS p50_ms,
       quantile_cont(latency_ms, 0.9) AS p90_ms,
       quantile_cont(latency_ms, 0.99) AS p99_ms,
       max(latency_ms) AS max_ms
FROM samples
GROUP BY ALL
ORDER BY hour, exchange
