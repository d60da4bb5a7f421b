-- Message rates per exchange and minute: data frames received, average and peak per second, bytes.
-- avg_per_s divides by the seconds of the minute that are inside the recording.
-- requires: raw
WITH per_second AS (
    SELECT exchange, recv_ns // 1000000000 AS sec, count(*) AS messages,
           sum(octet_length(payload))::BIGINT AS bytes
    FROM raw
    WHERE kind = 'data'
    GROUP BY ALL
), bounds AS (
    SELECT min(sec) AS first_sec, max(sec) AS last_sec FROM per_second
)
SELECT make_timestamp((sec // 60) * 60 * 1000000) AS minute,
       exchange,
       sum(messages)::BIGINT AS messages,
       sum(messages) / any_value(
           least(last_sec, (sec // 60) * 60 + 59) - greatest(first_sec, (sec // 60) * 60) + 1
       ) AS avg_per_s,
       max(messages) AS peak_per_s,
       sum(bytes)::BIGINT AS bytes
FROM per_second, bounds
GROUP BY sec // 60, exchange
ORDER BY minute, exchange
