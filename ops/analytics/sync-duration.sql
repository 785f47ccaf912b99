-- p50 and p99 duration of the sync attempts that called the provider, per provider, last 24
-- hours (`deferred` and `skipped` attempts stop before any call). Percentiles are weighted by
-- _sample_interval with quantileExactWeighted, as the Analytics Engine docs prescribe.
SELECT
  blob2 AS provider,
  SUM(_sample_interval) AS attempts,
  quantileExactWeighted(0.5)(double1, _sample_interval) AS p50_ms,
  quantileExactWeighted(0.99)(double1, _sample_interval) AS p99_ms
FROM ledgerlink_metrics
WHERE index1 = 'sync'
  AND blob3 NOT IN ('deferred', 'skipped')
  AND timestamp > NOW() - INTERVAL '1' DAY
GROUP BY provider
ORDER BY provider
