-- Create "match_run_inputs" table
CREATE TABLE "match_run_inputs" ("id" character varying NOT NULL, "instance" jsonb NOT NULL, "run_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "match_run_inputs_match_runs_input" FOREIGN KEY ("run_id") REFERENCES "match_runs" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "match_run_inputs_run_id_key" to table: "match_run_inputs"
CREATE UNIQUE INDEX "match_run_inputs_run_id_key" ON "match_run_inputs" ("run_id");
-- Move each run's input into it (its id is the run's with the prefix mri)
INSERT INTO "match_run_inputs" ("id", "instance", "run_id") SELECT 'mri_' || substr("id", 5), "input", "id" FROM "match_runs";
-- Modify "match_runs" table
ALTER TABLE "match_runs" DROP COLUMN "input";
