-- Arbitrage episodes from the replay, by symbol and exchange pair (buy venue -> sell venue).
-- requires: episodes
SELECT strategy,
       symbol,
       buy_exchange,
       sell_exchange,
       count(*) AS episodes,
       sum(duration_ns) / 1e9 AS total_s,
       avg(duration_ns) / 1e6 AS avg_ms,
       max(duration_ns) / 1e6 AS max_ms,
       avg(open_edge_bps) AS avg_open_edge_bps,
       max(max_edge_bps) AS max_edge_bps,
       sum(best_profit) AS best_profit
FROM episodes
GROUP BY ALL
ORDER BY episodes DESC, strategy, symbol, buy_exchange, sell_exchange
