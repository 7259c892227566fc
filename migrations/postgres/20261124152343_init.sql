-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" character varying NOT NULL, "occurred_at" timestamptz NOT NULL, "actor_id" character varying NULL, "actor_email" character varying NULL, "action" character varying NOT NULL, "object_type" character varying NULL, "object_id" character varying NULL, "request_id" character varying NULL, "ip" character varying NULL, "details" jsonb NULL, PRIMARY KEY ("id"));
-- Create index "auditevent_actor_id_occurred_at" to table: "audit_events"
CREATE INDEX "auditevent_actor_id_occurred_at" ON "audit_events" ("actor_id", "occurred_at");
-- Create index "auditevent_object_id" to table: "audit_events"
CREATE INDEX "auditevent_object_id" ON "audit_events" ("object_id");
-- Create index "auditevent_occurred_at" to table: "audit_events"
CREATE INDEX "auditevent_occurred_at" ON "audit_events" ("occurred_at");
-- Create "jobs" table
CREATE TABLE "jobs" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "lease_owner" character varying NULL, "lease_until" timestamptz NULL, "last_started_at" timestamptz NULL, "last_finished_at" timestamptz NULL, "last_outcome" character varying NULL, "last_error" character varying NULL, "last_duration_ms" bigint NOT NULL DEFAULT 0, "runs" bigint NOT NULL DEFAULT 0, "failures" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- Create index "jobs_name_key" to table: "jobs"
CREATE UNIQUE INDEX "jobs_name_key" ON "jobs" ("name");
-- Create "login_links" table
CREATE TABLE "login_links" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "token_hash" character varying NOT NULL, "requested_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, "requested_ip" character varying NOT NULL DEFAULT '', "sent" boolean NOT NULL DEFAULT true, PRIMARY KEY ("id"));
-- Create index "login_links_token_hash_key" to table: "login_links"
CREATE UNIQUE INDEX "login_links_token_hash_key" ON "login_links" ("token_hash");
-- Create index "loginlink_email_requested_at" to table: "login_links"
CREATE INDEX "loginlink_email_requested_at" ON "login_links" ("email", "requested_at");
-- Create index "loginlink_expires_at" to table: "login_links"
CREATE INDEX "loginlink_expires_at" ON "login_links" ("expires_at");
-- Create index "loginlink_requested_ip_requested_at" to table: "login_links"
CREATE INDEX "loginlink_requested_ip_requested_at" ON "login_links" ("requested_ip", "requested_at");
-- Create "outbox_messages" table
CREATE TABLE "outbox_messages" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "dedupe_key" character varying NOT NULL, "template" character varying NOT NULL, "recipient" character varying NOT NULL, "recipient_name" character varying NOT NULL DEFAULT '', "subject" character varying NOT NULL, "text_body" text NOT NULL, "html_body" text NOT NULL, "headers" jsonb NULL, "attachments" jsonb NULL, "state" character varying NOT NULL DEFAULT 'queued', "attempts" bigint NOT NULL DEFAULT 0, "next_attempt_at" timestamptz NOT NULL, "lease_until" timestamptz NULL, "lease_owner" character varying NULL, "last_error" character varying NULL, "sent_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "outbox_messages_dedupe_key_key" to table: "outbox_messages"
CREATE UNIQUE INDEX "outbox_messages_dedupe_key_key" ON "outbox_messages" ("dedupe_key");
-- Create index "outboxmessage_recipient" to table: "outbox_messages"
CREATE INDEX "outboxmessage_recipient" ON "outbox_messages" ("recipient");
-- Create index "outboxmessage_state_lease_until" to table: "outbox_messages"
CREATE INDEX "outboxmessage_state_lease_until" ON "outbox_messages" ("state", "lease_until");
-- Create index "outboxmessage_state_next_attempt_at" to table: "outbox_messages"
CREATE INDEX "outboxmessage_state_next_attempt_at" ON "outbox_messages" ("state", "next_attempt_at");
-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL DEFAULT '', "roles" jsonb NOT NULL, "disabled" boolean NOT NULL DEFAULT false, "last_sign_in_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "user_created_at" to table: "users"
CREATE INDEX "user_created_at" ON "users" ("created_at");
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
-- Create "api_tokens" table
CREATE TABLE "api_tokens" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "token_hash" character varying NOT NULL, "hint" character varying NOT NULL, "scopes" jsonb NOT NULL, "expires_at" timestamptz NULL, "last_used_at" timestamptz NULL, "revoked_at" timestamptz NULL, "created_by_id" character varying NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "api_tokens_users_api_tokens" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "api_tokens_token_hash_key" to table: "api_tokens"
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens" ("token_hash");
-- Create index "apitoken_user_id" to table: "api_tokens"
CREATE INDEX "apitoken_user_id" ON "api_tokens" ("user_id");
-- Create "sessions" table
CREATE TABLE "sessions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "token_hash" character varying NOT NULL, "expires_at" timestamptz NOT NULL, "last_used_at" timestamptz NULL, "revoked_at" timestamptz NULL, "ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "session_expires_at" to table: "sessions"
CREATE INDEX "session_expires_at" ON "sessions" ("expires_at");
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX "session_user_id" ON "sessions" ("user_id");
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions" ("token_hash");
