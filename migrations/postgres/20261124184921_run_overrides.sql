-- Modify "match_runs" table
ALTER TABLE "match_runs" ADD COLUMN "overrides" jsonb NULL;
