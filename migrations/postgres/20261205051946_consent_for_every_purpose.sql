-- Create "consent_texts" table
CREATE TABLE "consent_texts" ("id" character varying NOT NULL, "purpose" character varying NOT NULL, "version" bigint NOT NULL, "body" character varying NOT NULL, "requires_reconsent" boolean NOT NULL DEFAULT false, "published_at" timestamptz NOT NULL, "published_by_id" character varying NOT NULL, "lapsed_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "consenttext_purpose_version" to table: "consent_texts"
CREATE UNIQUE INDEX "consenttext_purpose_version" ON "consent_texts" ("purpose", "version");
-- Modify "consent_evidences" table
ALTER TABLE "consent_evidences" DROP CONSTRAINT "consent_evidences_newsletter_subscriptions_consent", ALTER COLUMN "subscription_id" DROP NOT NULL, ADD COLUMN "purpose" character varying NOT NULL DEFAULT 'NEWSLETTER', ADD COLUMN "withdrawn_at" timestamptz NULL, ADD COLUMN "consent_text_id" character varying NULL, ADD COLUMN "user_id" character varying NULL, ADD CONSTRAINT "consent_evidences_newsletter_subscriptions_consent" FOREIGN KEY ("subscription_id") REFERENCES "newsletter_subscriptions" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "consent_evidences_consent_texts_consents" FOREIGN KEY ("consent_text_id") REFERENCES "consent_texts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "consent_evidences_users_consents" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "consentevidence_consent_text_id" to table: "consent_evidences"
CREATE INDEX "consentevidence_consent_text_id" ON "consent_evidences" ("consent_text_id");
-- Create index "consentevidence_subscription_id" to table: "consent_evidences"
CREATE INDEX "consentevidence_subscription_id" ON "consent_evidences" ("subscription_id");
-- Create index "consentevidence_user_id_purpose" to table: "consent_evidences"
CREATE INDEX "consentevidence_user_id_purpose" ON "consent_evidences" ("user_id", "purpose");
