-- Per-second mid price and spread by exchange and symbol.
-- mid and spread are those of the last quote in each second; avg_spread_bps averages every quote.
-- requires: quotes
SELECT make_timestamp(sec * 1000000) AS second,
       exchange,
       symbol,
       quotes,
       mid,
       spread,
       avg_spread_bps
FROM (
    SELECT recv_ns // 1000000000 AS sec,
           exchange,
           symbol,
           count(*) AS quotes,
           arg_max((bid + ask) / 2, recv_ns) AS mid,
           arg_max(ask - bid, recv_ns) AS spread,
           avg((ask - bid) / ((ask + bid) / 2)) * 1e4 AS avg_spread_bps
    FROM quotes
    WHERE bid > 0 AND ask > 0
    GROUP BY ALL
)
ORDER BY second, exchange, symbol
