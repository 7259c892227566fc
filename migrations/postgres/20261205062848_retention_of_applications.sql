-- Modify "applications" table
ALTER TABLE "applications" ADD COLUMN "retention_warned_at" timestamptz NULL;
-- Modify "calls" table
ALTER TABLE "calls" ADD COLUMN "ended_at" timestamptz NULL, ADD COLUMN "applications_deleted" bigint NOT NULL DEFAULT 0;
