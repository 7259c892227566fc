-- Modify "campaigns" table
ALTER TABLE "campaigns" ADD COLUMN "hold_reason" character varying NULL;
