-- Modify "calls" table
ALTER TABLE "calls" ADD COLUMN "ranking_closed_at" timestamptz NULL;
