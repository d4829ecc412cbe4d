-- store.LoadCaller (app/internal/store/identity.go): run on every authenticated request.
SELECT u.login, m.role::text,
	CASE WHEN m.role IS NULL THEN '{}'::text[] ELSE ARRAY(
		SELECT rp.permission_name FROM role_permissions rp WHERE rp.role_name = 'org:' || m.role::text
		UNION
		SELECT up.permission_name FROM user_permissions up
		WHERE up.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND up.user_id = (SELECT user_id FROM load_callers WHERE n = :c) AND (up.expires_at IS NULL OR up.expires_at > now())) END,
	CASE WHEN m.role IS NULL THEN '{}'::text[] ELSE ARRAY(
		SELECT DISTINCT rp.permission_name FROM team_members tm
		JOIN teams t ON t.id = tm.team_id AND t.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid
		JOIN role_permissions rp ON rp.role_name = 'team:' || tm.role
		WHERE tm.user_id = (SELECT user_id FROM load_callers WHERE n = :c)) END
FROM sessions s
JOIN users u ON u.id = s.user_id
LEFT JOIN organization_members m ON m.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND m.user_id = s.user_id AND m.status = 'active'
WHERE s.id = (SELECT session_id FROM load_callers WHERE n = :c) AND s.user_id = (SELECT user_id FROM load_callers WHERE n = :c) AND s.revoked_at IS NULL AND s.expires_at > now();
