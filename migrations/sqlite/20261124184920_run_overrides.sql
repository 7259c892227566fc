-- Add column "overrides" to table: "match_runs"
ALTER TABLE `match_runs` ADD COLUMN `overrides` json NULL;
