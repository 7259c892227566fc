-- Modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "seq" bigint NULL, ADD COLUMN "prev_hash" character varying NULL, ADD COLUMN "hash" character varying NULL;
-- Create index "auditevent_seq" to table: "audit_events"
CREATE UNIQUE INDEX "auditevent_seq" ON "audit_events" ("seq");
-- Create "audit_checkpoints" table
CREATE TABLE "audit_checkpoints" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "through_seq" bigint NOT NULL, "through_hash" character varying NOT NULL, "pruned_count" bigint NOT NULL, "cutoff" timestamptz NOT NULL, "signature" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create index "auditcheckpoint_through_seq" to table: "audit_checkpoints"
CREATE UNIQUE INDEX "auditcheckpoint_through_seq" ON "audit_checkpoints" ("through_seq");
