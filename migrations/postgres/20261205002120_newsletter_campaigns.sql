-- Create "suppressions" table
CREATE TABLE "suppressions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email_hash" character varying NOT NULL, "email" character varying NOT NULL DEFAULT '', "reason" character varying NOT NULL, "detail" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "suppression_created_at" to table: "suppressions"
CREATE INDEX "suppression_created_at" ON "suppressions" ("created_at");
-- Create index "suppressions_email_hash_key" to table: "suppressions"
CREATE UNIQUE INDEX "suppressions_email_hash_key" ON "suppressions" ("email_hash");
-- Create "campaigns" table
CREATE TABLE "campaigns" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "subject" character varying NOT NULL, "preheader" character varying NOT NULL DEFAULT '', "body" character varying NOT NULL, "html_body" text NOT NULL, "text_body" text NOT NULL, "status" character varying NOT NULL DEFAULT 'DRAFT', "approved_at" timestamptz NULL, "scheduled_at" timestamptz NULL, "late_since" timestamptz NULL, "started_at" timestamptz NULL, "frozen_at" timestamptz NULL, "freeze_cursor" character varying NOT NULL DEFAULT '', "mail_body_id" character varying NULL, "recipients" bigint NOT NULL DEFAULT 0, "sent_at" timestamptz NULL, "cancelled_at" timestamptz NULL, "slug" character varying NULL, "public_archive" boolean NOT NULL DEFAULT false, "created_by_id" character varying NOT NULL, "edited_by_id" character varying NOT NULL, "approved_by_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "campaigns_users_approver" FOREIGN KEY ("approved_by_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "campaigns_users_author" FOREIGN KEY ("created_by_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "campaigns_users_editor" FOREIGN KEY ("edited_by_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "campaign_public_archive_status_sent_at" to table: "campaigns"
CREATE INDEX "campaign_public_archive_status_sent_at" ON "campaigns" ("public_archive", "status", "sent_at");
-- Create index "campaign_status_scheduled_at" to table: "campaigns"
CREATE INDEX "campaign_status_scheduled_at" ON "campaigns" ("status", "scheduled_at");
-- Create index "campaigns_slug_key" to table: "campaigns"
CREATE UNIQUE INDEX "campaigns_slug_key" ON "campaigns" ("slug");
-- Create "campaign_groups" table
CREATE TABLE "campaign_groups" ("campaign_id" character varying NOT NULL, "working_group_id" character varying NOT NULL, PRIMARY KEY ("campaign_id", "working_group_id"), CONSTRAINT "campaign_groups_campaign_id" FOREIGN KEY ("campaign_id") REFERENCES "campaigns" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "campaign_groups_working_group_id" FOREIGN KEY ("working_group_id") REFERENCES "working_groups" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "mailing_lists" table
CREATE TABLE "mailing_lists" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "slug" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "visibility" character varying NOT NULL DEFAULT 'PUBLIC', "archived" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"));
-- Create index "mailing_lists_name_key" to table: "mailing_lists"
CREATE UNIQUE INDEX "mailing_lists_name_key" ON "mailing_lists" ("name");
-- Create index "mailing_lists_slug_key" to table: "mailing_lists"
CREATE UNIQUE INDEX "mailing_lists_slug_key" ON "mailing_lists" ("slug");
-- Create "campaign_lists" table
CREATE TABLE "campaign_lists" ("campaign_id" character varying NOT NULL, "mailing_list_id" character varying NOT NULL, PRIMARY KEY ("campaign_id", "mailing_list_id"), CONSTRAINT "campaign_lists_campaign_id" FOREIGN KEY ("campaign_id") REFERENCES "campaigns" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "campaign_lists_mailing_list_id" FOREIGN KEY ("mailing_list_id") REFERENCES "mailing_lists" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "subscribers" table
CREATE TABLE "subscribers" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL DEFAULT '', "confirm_token_hash" character varying NULL, "confirm_sent_at" timestamptz NULL, "confirm_expires_at" timestamptz NULL, "confirm_used_at" timestamptz NULL, "user_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "subscribers_users_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "subscriber_created_at" to table: "subscribers"
CREATE INDEX "subscriber_created_at" ON "subscribers" ("created_at");
-- Create index "subscribers_confirm_token_hash_key" to table: "subscribers"
CREATE UNIQUE INDEX "subscribers_confirm_token_hash_key" ON "subscribers" ("confirm_token_hash");
-- Create index "subscribers_email_key" to table: "subscribers"
CREATE UNIQUE INDEX "subscribers_email_key" ON "subscribers" ("email");
-- Create "newsletter_subscriptions" table
CREATE TABLE "newsletter_subscriptions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "status" character varying NOT NULL DEFAULT 'UNCONFIRMED', "confirmed_at" timestamptz NULL, "unsubscribed_at" timestamptz NULL, "list_id" character varying NOT NULL, "subscriber_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "newsletter_subscriptions_mailing_lists_subscriptions" FOREIGN KEY ("list_id") REFERENCES "mailing_lists" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "newsletter_subscriptions_subscribers_subscriptions" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "newslettersubscription_list_id_status" to table: "newsletter_subscriptions"
CREATE INDEX "newslettersubscription_list_id_status" ON "newsletter_subscriptions" ("list_id", "status");
-- Create index "newslettersubscription_subscriber_id_list_id" to table: "newsletter_subscriptions"
CREATE UNIQUE INDEX "newslettersubscription_subscriber_id_list_id" ON "newsletter_subscriptions" ("subscriber_id", "list_id");
-- Create "consent_evidences" table
CREATE TABLE "consent_evidences" ("id" character varying NOT NULL, "event" character varying NOT NULL, "source" character varying NOT NULL, "consent_text" character varying NOT NULL DEFAULT '', "consent_version" character varying NOT NULL DEFAULT '', "at" timestamptz NOT NULL, "ip" character varying NOT NULL DEFAULT '', "actor_id" character varying NOT NULL DEFAULT '', "note" character varying NOT NULL DEFAULT '', "subscription_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "consent_evidences_newsletter_subscriptions_consent" FOREIGN KEY ("subscription_id") REFERENCES "newsletter_subscriptions" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create "mail_bodies" table
CREATE TABLE "mail_bodies" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "template" character varying NOT NULL, "subject" character varying NOT NULL, "preheader" character varying NOT NULL DEFAULT '', "text_body" text NOT NULL, "html_body" text NOT NULL, "headers" jsonb NULL, PRIMARY KEY ("id"));
-- Drop index "outboxmessage_state_next_attempt_at" from table: "outbox_messages"
DROP INDEX "outboxmessage_state_next_attempt_at";
-- Modify "outbox_messages" table
ALTER TABLE "outbox_messages" ADD COLUMN "lane" character varying NOT NULL DEFAULT 'transactional', ADD COLUMN "batch_key" character varying NULL, ADD COLUMN "personal" jsonb NULL, ADD COLUMN "body_id" character varying NULL, ADD CONSTRAINT "outbox_messages_mail_bodies_messages" FOREIGN KEY ("body_id") REFERENCES "mail_bodies" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "outboxmessage_batch_key_state" to table: "outbox_messages"
CREATE INDEX "outboxmessage_batch_key_state" ON "outbox_messages" ("batch_key", "state");
-- Create index "outboxmessage_state_lane_next_attempt_at" to table: "outbox_messages"
CREATE INDEX "outboxmessage_state_lane_next_attempt_at" ON "outbox_messages" ("state", "lane", "next_attempt_at");
