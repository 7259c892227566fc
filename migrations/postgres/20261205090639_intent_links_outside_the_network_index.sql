-- Drop index "loginlink_requested_ip_requested_at" from table: "login_links"
DROP INDEX "loginlink_requested_ip_requested_at";
-- Create index "loginlink_requested_ip_requested_at" to table: "login_links"
CREATE INDEX "loginlink_requested_ip_requested_at" ON "login_links" ("requested_ip", "requested_at") WHERE ((intent)::text = ''::text);
