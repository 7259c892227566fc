-- Add column "ranking_closed_at" to table: "calls"
ALTER TABLE `calls` ADD COLUMN `ranking_closed_at` datetime NULL;
