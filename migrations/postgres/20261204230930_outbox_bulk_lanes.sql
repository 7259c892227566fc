-- Create "mail_bodies" table
CREATE TABLE "mail_bodies" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "template" character varying NOT NULL, "subject" character varying NOT NULL, "preheader" character varying NOT NULL DEFAULT '', "text_body" text NOT NULL, "html_body" text NOT NULL, "headers" jsonb NULL, PRIMARY KEY ("id"));
-- Drop index "outboxmessage_state_next_attempt_at" from table: "outbox_messages"
DROP INDEX "outboxmessage_state_next_attempt_at";
-- Modify "outbox_messages" table
ALTER TABLE "outbox_messages" ADD COLUMN "lane" character varying NOT NULL DEFAULT 'transactional', ADD COLUMN "batch_key" character varying NULL, ADD COLUMN "personal" jsonb NULL, ADD COLUMN "body_id" character varying NULL, ADD CONSTRAINT "outbox_messages_mail_bodies_messages" FOREIGN KEY ("body_id") REFERENCES "mail_bodies" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "outboxmessage_batch_key_state" to table: "outbox_messages"
CREATE INDEX "outboxmessage_batch_key_state" ON "outbox_messages" ("batch_key", "state");
-- Create index "outboxmessage_state_lane_next_attempt_at" to table: "outbox_messages"
CREATE INDEX "outboxmessage_state_lane_next_attempt_at" ON "outbox_messages" ("state", "lane", "next_attempt_at");
