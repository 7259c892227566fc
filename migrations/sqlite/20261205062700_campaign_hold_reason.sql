-- Add column "hold_reason" to table: "campaigns"
ALTER TABLE `campaigns` ADD COLUMN `hold_reason` text NULL;
