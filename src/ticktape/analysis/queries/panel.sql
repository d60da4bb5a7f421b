-- Cross-exchange best bid and ask per second and symbol, with staleness.
-- Each exchange's last quote at or before the end of the second is carried forward; quotes older
-- than 5 s are left out. crossed_bps > 0 means the best bid is above the best ask (before fees).
-- Ties go to the fresher quote, then to the exchange name, so the result is deterministic.
-- requires: quotes
WITH last_per_second AS (
    SELECT exchange, symbol, recv_ns // 1000000000 AS sec,
           arg_max(bid, recv_ns) AS bid,
           arg_max(ask, recv_ns) AS ask,
           max(recv_ns) AS last_ns
    FROM quotes
    WHERE bid > 0 AND ask > 0
    GROUP BY ALL
), grid AS (
    SELECT symbol, unnest(range(min(sec), max(sec) + 1)) AS sec
    FROM last_per_second GROUP BY symbol
), venues AS (
    SELECT DISTINCT symbol, exchange FROM last_per_second
), carried AS (
    SELECT g.sec, g.symbol, v.exchange, q.bid, q.ask,
           ((g.sec + 1) * 1000000000 - q.last_ns) / 1e6 AS staleness_ms
    FROM grid g
    JOIN venues v ON v.symbol = g.symbol
    ASOF JOIN last_per_second q
      ON q.symbol = g.symbol AND q.exchange = v.exchange AND q.sec <= g.sec
), fresh AS (
    SELECT * FROM carried WHERE staleness_ms <= 5000
)
SELECT make_timestamp(sec * 1000000) AS second,
       symbol,
       max(bid) AS best_bid,
       arg_max(exchange, (bid, -staleness_ms, exchange)) AS bid_exchange,
       arg_max(staleness_ms, (bid, -staleness_ms, exchange)) AS bid_staleness_ms,
       min(ask) AS best_ask,
       arg_min(exchange, (ask, staleness_ms, exchange)) AS ask_exchange,
       arg_min(staleness_ms, (ask, staleness_ms, exchange)) AS ask_staleness_ms,
       (max(bid) - min(ask)) / ((max(bid) + min(ask)) / 2) * 1e4 AS crossed_bps,
       count(*) AS exchanges,
       max(staleness_ms) AS max_staleness_ms
FROM fresh
GROUP BY sec, symbol
ORDER BY second, symbol
