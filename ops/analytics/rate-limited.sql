-- Requests refused with 429 by the Gate, per rule and key kind, last 24 hours
-- (rules: src/gate/rules.ts).
SELECT
  blob2 AS rule,
  blob3 AS key_kind,
  SUM(_sample_interval * double1) AS refused
FROM ledgerlink_metrics
WHERE index1 = 'rate_limit'
  AND timestamp > NOW() - INTERVAL '1' DAY
GROUP BY rule, key_kind
ORDER BY refused DESC
