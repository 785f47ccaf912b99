-- Dead letters per queue, provider or email kind, and error code, last 7 days. A sync dead
-- letter is also a row an administrator lists and replays (GET /api/v1/admin/sync/dead-letters).
SELECT
  blob2 AS queue,
  blob3 AS source,
  blob4 AS error_code,
  SUM(_sample_interval * double1) AS dead_letters
FROM ledgerlink_metrics
WHERE index1 = 'dead_letter'
  AND timestamp > NOW() - INTERVAL '7' DAY
GROUP BY queue, source, error_code
ORDER BY dead_letters DESC
