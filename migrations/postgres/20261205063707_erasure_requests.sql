-- Modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "salt" character varying NULL, ADD COLUMN "personal_digest" character varying NULL;
-- Create "erasure_requests" table
CREATE TABLE "erasure_requests" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "status" character varying NOT NULL DEFAULT 'PENDING', "self_service" boolean NOT NULL DEFAULT false, "blockers" jsonb NULL, "decided_by_id" character varying NULL, "decided_at" timestamptz NULL, "reason" character varying NOT NULL DEFAULT '', "erased_at" timestamptz NULL, "rows" bigint NOT NULL DEFAULT 0, "last_error" character varying NOT NULL DEFAULT '', "person_id" character varying NOT NULL, "requested_by_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "erasure_requests_users_person" FOREIGN KEY ("person_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "erasure_requests_users_requested_by" FOREIGN KEY ("requested_by_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "erasurerequest_one_open" to table: "erasure_requests"
CREATE UNIQUE INDEX "erasurerequest_one_open" ON "erasure_requests" ("person_id") WHERE (((status)::text = 'PENDING'::text) OR ((status)::text = 'QUEUED'::text));
-- Create index "erasurerequest_person_id" to table: "erasure_requests"
CREATE INDEX "erasurerequest_person_id" ON "erasure_requests" ("person_id");
-- Create index "erasurerequest_requested_by_id" to table: "erasure_requests"
CREATE INDEX "erasurerequest_requested_by_id" ON "erasure_requests" ("requested_by_id");
-- Create index "erasurerequest_status_created_at" to table: "erasure_requests"
CREATE INDEX "erasurerequest_status_created_at" ON "erasure_requests" ("status", "created_at");
