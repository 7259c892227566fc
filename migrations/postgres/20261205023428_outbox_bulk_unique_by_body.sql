-- Drop index "outboxmessage_recipient" from table: "outbox_messages"
DROP INDEX "outboxmessage_recipient";
-- Modify "outbox_messages" table
ALTER TABLE "outbox_messages" ALTER COLUMN "dedupe_key" DROP NOT NULL, DROP COLUMN "batch_key";
-- Create index "outboxmessage_body_id_recipient" to table: "outbox_messages"
CREATE UNIQUE INDEX "outboxmessage_body_id_recipient" ON "outbox_messages" ("body_id", "recipient");
