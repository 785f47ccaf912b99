-- Failed and locked-out logins per hour and reason, last 24 hours. A sudden rise of one reason
-- (or of `locked`) is the signature of credential stuffing; docs/security.md has the lockout rules.
SELECT
  intDiv(toUInt32(timestamp), 3600) * 3600 AS t,
  blob3 AS outcome,
  blob4 AS reason,
  SUM(_sample_interval * double1) AS logins
FROM ledgerlink_metrics
WHERE index1 = 'auth'
  AND blob2 = 'login'
  AND blob3 IN ('failure', 'locked')
  AND timestamp > NOW() - INTERVAL '1' DAY
GROUP BY t, outcome, reason
ORDER BY t, logins DESC
