-- Registration used to store `role = 'admin'` for an address listed in ADMIN_EMAILS, so the
-- rights outlived the list (security review, second pass, item 3). The list is now applied per
-- request and never stored; this demotes every stored admin that no administrator granted
-- (`PATCH /admin/users/{id}` audits `admin.user_updated` with `role.to = 'admin'`).
UPDATE `users` SET `role` = 'user'
WHERE `role` = 'admin' AND `id` NOT IN (
  SELECT `user_id` FROM `audit_events`
  WHERE `action` = 'admin.user_updated' AND `user_id` IS NOT NULL
    AND json_extract(`details`, '$.role.to') = 'admin'
);
