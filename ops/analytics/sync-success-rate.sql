-- Sync success rate per provider, last 24 hours. A run ends `succeeded`, `failed` or
-- `dead_letter`; `retry`, `deferred` and `skipped` attempts are not endings and are counted
-- apart. Every count is weighted by _sample_interval (Analytics Engine samples busy indexes).
SELECT
  blob2 AS provider,
  SUM(IF(blob3 = 'succeeded', _sample_interval, 0)) AS succeeded,
  SUM(IF(blob3 IN ('failed', 'dead_letter'), _sample_interval, 0)) AS failed,
  SUM(IF(blob3 = 'retry', _sample_interval, 0)) AS retries,
  SUM(IF(blob3 = 'succeeded', _sample_interval, 0))
    / SUM(IF(blob3 IN ('succeeded', 'failed', 'dead_letter'), _sample_interval, 0)) AS success_rate
FROM ledgerlink_metrics
WHERE index1 = 'sync'
  AND timestamp > NOW() - INTERVAL '1' DAY
GROUP BY provider
ORDER BY provider
