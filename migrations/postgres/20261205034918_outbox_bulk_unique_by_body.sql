-- Modify "outbox_messages" table
ALTER TABLE "outbox_messages" ALTER COLUMN "dedupe_key" DROP NOT NULL, DROP COLUMN "batch_key";
-- Create index "outboxmessage_bulk_body_recipient" to table: "outbox_messages"
CREATE UNIQUE INDEX "outboxmessage_bulk_body_recipient" ON "outbox_messages" ("body_id", "recipient") WHERE ((lane)::text = 'bulk'::text);
