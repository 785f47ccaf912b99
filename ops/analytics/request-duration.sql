-- p50 and p99 request duration per route pattern, last hour, busiest routes first.
SELECT
  blob2 AS method,
  blob3 AS route,
  SUM(_sample_interval) AS requests,
  quantileExactWeighted(0.5)(double1, _sample_interval) AS p50_ms,
  quantileExactWeighted(0.99)(double1, _sample_interval) AS p99_ms
FROM ledgerlink_metrics
WHERE index1 = 'request'
  AND timestamp > NOW() - INTERVAL '1' HOUR
GROUP BY method, route
ORDER BY requests DESC
LIMIT 50
