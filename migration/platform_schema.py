# ruff: noqa: W291, W293  (the migrations are kept verbatim, trailing spaces included)
"""The platform's database as production holds it: its three Prisma migrations, verbatim (applied in this order
by `prisma migrate deploy`, from the platform repository at 7056936), and the `_prisma_migrations` table that
Prisma creates beside them. The fixture (migration/fixture.py) builds the real schema from these."""

PRISMA_MIGRATIONS_TABLE = """
CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
);
"""

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("20250921115133_init", """-- CreateTable
CREATE TABLE "public"."accounts" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "providerAccountId" TEXT NOT NULL,
    "refresh_token" TEXT,
    "access_token" TEXT,
    "expires_at" INTEGER,
    "token_type" TEXT,
    "scope" TEXT,
    "id_token" TEXT,
    "session_state" TEXT,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."artists" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "stripeAccountId" TEXT,
    "isStripeOnboarded" BOOLEAN NOT NULL DEFAULT false,
    "totalEarnings" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "totalSubscribers" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "artists_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."campaign_analytics" (
    "id" TEXT NOT NULL,
    "campaignId" TEXT NOT NULL,
    "date" TIMESTAMP(3) NOT NULL,
    "dailySignups" INTEGER NOT NULL DEFAULT 0,
    "totalParticipants" INTEGER NOT NULL DEFAULT 0,
    "activeParticipants" INTEGER NOT NULL DEFAULT 0,
    "dailySubmissions" INTEGER NOT NULL DEFAULT 0,
    "totalSubmissions" INTEGER NOT NULL DEFAULT 0,
    "dailyViews" INTEGER NOT NULL DEFAULT 0,
    "totalViews" INTEGER NOT NULL DEFAULT 0,
    "sharesCount" INTEGER NOT NULL DEFAULT 0,
    "mentionsCount" INTEGER NOT NULL DEFAULT 0,
    "hashtagUse" INTEGER NOT NULL DEFAULT 0,
    "dailyRevenue" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "totalRevenue" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "conversionRate" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "engagementRate" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "retentionRate" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "completionRate" DECIMAL(65,30) NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_analytics_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."campaign_rewards" (
    "id" TEXT NOT NULL,
    "campaignId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "type" TEXT NOT NULL,
    "value" DECIMAL(65,30),
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "quantity" INTEGER NOT NULL DEFAULT 1,
    "contentId" TEXT,
    "accessDays" INTEGER,
    "tierAccess" TEXT,
    "shippingRequired" BOOLEAN NOT NULL DEFAULT false,
    "estimatedValue" DECIMAL(65,30),
    "supplier" TEXT,
    "rankRequirement" INTEGER,
    "scoreRequirement" INTEGER,
    "participationRequirement" BOOLEAN NOT NULL DEFAULT false,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "totalAwarded" INTEGER NOT NULL DEFAULT 0,
    "remainingQuantity" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "campaign_rewards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."campaigns" (
    "id" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'DRAFT',
    "startDate" TIMESTAMP(3) NOT NULL,
    "endDate" TIMESTAMP(3) NOT NULL,
    "maxParticipants" INTEGER,
    "entryFee" DECIMAL(65,30),
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "targetMetric" TEXT NOT NULL,
    "targetValue" INTEGER NOT NULL,
    "currentValue" INTEGER NOT NULL DEFAULT 0,
    "totalPrizePool" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "hasDigitalPrizes" BOOLEAN NOT NULL DEFAULT false,
    "hasPhysicalPrizes" BOOLEAN NOT NULL DEFAULT false,
    "bannerImage" TEXT,
    "brandColor" TEXT DEFAULT '#6366f1',
    "tags" TEXT,
    "totalParticipants" INTEGER NOT NULL DEFAULT 0,
    "totalEngagement" INTEGER NOT NULL DEFAULT 0,
    "totalRevenue" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."challenge_leaderboards" (
    "id" TEXT NOT NULL,
    "challengeId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "score" INTEGER NOT NULL,
    "submissions" INTEGER NOT NULL,
    "lastSubmissionAt" TIMESTAMP(3),
    "baseScore" INTEGER NOT NULL DEFAULT 0,
    "bonusScore" INTEGER NOT NULL DEFAULT 0,
    "penaltyScore" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "challenge_leaderboards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."challenge_participations" (
    "id" TEXT NOT NULL,
    "challengeId" TEXT NOT NULL,
    "participantId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "joinedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastActiveAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "currentScore" INTEGER NOT NULL DEFAULT 0,
    "submissionCount" INTEGER NOT NULL DEFAULT 0,
    "rank" INTEGER,
    "notifications" BOOLEAN NOT NULL DEFAULT true,
    "isAnonymous" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "challenge_participations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."challenge_submissions" (
    "id" TEXT NOT NULL,
    "challengeId" TEXT NOT NULL,
    "participationId" TEXT NOT NULL,
    "submitterId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "contentType" TEXT NOT NULL,
    "contentUrl" TEXT NOT NULL,
    "thumbnailUrl" TEXT,
    "metadata" TEXT,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "reviewStatus" TEXT NOT NULL DEFAULT 'PENDING',
    "totalScore" INTEGER NOT NULL DEFAULT 0,
    "judgeScores" TEXT,
    "publicVotes" INTEGER NOT NULL DEFAULT 0,
    "isFlagged" BOOLEAN NOT NULL DEFAULT false,
    "flagReason" TEXT,
    "moderatedBy" TEXT,
    "moderatedAt" TIMESTAMP(3),
    "viewCount" INTEGER NOT NULL DEFAULT 0,
    "likeCount" INTEGER NOT NULL DEFAULT 0,
    "commentCount" INTEGER NOT NULL DEFAULT 0,
    "shareCount" INTEGER NOT NULL DEFAULT 0,
    "submittedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "challenge_submissions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."challenges" (
    "id" TEXT NOT NULL,
    "campaignId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "rules" TEXT NOT NULL,
    "requirements" TEXT,
    "submissionTypes" TEXT NOT NULL,
    "scoringCriteria" TEXT NOT NULL,
    "maxScore" INTEGER NOT NULL DEFAULT 100,
    "autoJudging" BOOLEAN NOT NULL DEFAULT false,
    "startDate" TIMESTAMP(3),
    "endDate" TIMESTAMP(3),
    "submissionDeadline" TIMESTAMP(3),
    "maxSubmissions" INTEGER,
    "maxParticipants" INTEGER,
    "isPublic" BOOLEAN NOT NULL DEFAULT true,
    "featuredOrder" INTEGER,
    "participantCount" INTEGER NOT NULL DEFAULT 0,
    "submissionCount" INTEGER NOT NULL DEFAULT 0,
    "engagementScore" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "challenges_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."comments" (
    "id" TEXT NOT NULL,
    "contentId" TEXT NOT NULL,
    "fanId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "comments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."content" (
    "id" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "type" TEXT NOT NULL,
    "fileUrl" TEXT NOT NULL,
    "thumbnailUrl" TEXT,
    "visibility" TEXT NOT NULL DEFAULT 'PUBLIC',
    "fileSize" INTEGER NOT NULL,
    "duration" INTEGER,
    "format" TEXT NOT NULL,
    "tags" TEXT NOT NULL,
    "totalViews" INTEGER NOT NULL DEFAULT 0,
    "uniqueViews" INTEGER NOT NULL DEFAULT 0,
    "totalLikes" INTEGER NOT NULL DEFAULT 0,
    "lastViewedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "content_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."content_likes" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "contentId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "content_likes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."content_views" (
    "id" TEXT NOT NULL,
    "contentId" TEXT NOT NULL,
    "viewerId" TEXT NOT NULL,
    "viewCount" INTEGER NOT NULL DEFAULT 1,
    "totalDuration" INTEGER NOT NULL DEFAULT 0,
    "maxPercentage" INTEGER NOT NULL DEFAULT 0,
    "lastViewedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "content_views_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."invoices" (
    "id" TEXT NOT NULL,
    "subscriptionId" TEXT NOT NULL,
    "stripeInvoiceId" TEXT NOT NULL,
    "amount" DECIMAL(65,30) NOT NULL,
    "status" TEXT NOT NULL,
    "dueDate" TIMESTAMP(3) NOT NULL,
    "paidAt" TIMESTAMP(3),
    "periodStart" TIMESTAMP(3) NOT NULL,
    "periodEnd" TIMESTAMP(3) NOT NULL,
    "prorationAmount" DECIMAL(65,30),
    "items" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."live_streams" (
    "id" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "status" TEXT NOT NULL DEFAULT 'SCHEDULED',
    "streamKey" TEXT NOT NULL,
    "maxViewers" INTEGER DEFAULT 1000,
    "isRecorded" BOOLEAN NOT NULL DEFAULT false,
    "recordingUrl" TEXT,
    "thumbnailUrl" TEXT,
    "scheduledAt" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "peakViewers" INTEGER NOT NULL DEFAULT 0,
    "totalViewers" INTEGER NOT NULL DEFAULT 0,
    "totalTips" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "totalMessages" INTEGER NOT NULL DEFAULT 0,
    "tierIds" TEXT NOT NULL,
    "isPublic" BOOLEAN NOT NULL DEFAULT false,
    "requiresPayment" BOOLEAN NOT NULL DEFAULT false,
    "paymentAmount" DECIMAL(65,30),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "live_streams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."messages" (
    "id" TEXT NOT NULL,
    "senderId" TEXT NOT NULL,
    "recipientId" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'TEXT',
    "attachmentUrl" TEXT,
    "readAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "deliveredAt" TIMESTAMP(3),

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."oauth_tokens" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "encryptedAccessToken" TEXT NOT NULL,
    "encryptedRefreshToken" TEXT,
    "expiresAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "oauth_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."payment_failures" (
    "id" TEXT NOT NULL,
    "subscriptionId" TEXT NOT NULL,
    "stripeInvoiceId" TEXT NOT NULL,
    "amount" DECIMAL(65,30) NOT NULL,
    "attemptCount" INTEGER NOT NULL DEFAULT 1,
    "nextRetryAt" TIMESTAMP(3),
    "failureReason" TEXT NOT NULL,
    "isResolved" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "payment_failures_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."playlist_items" (
    "id" TEXT NOT NULL,
    "playlistId" TEXT NOT NULL,
    "contentId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "addedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "playlist_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."playlist_likes" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "playlistId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "playlist_likes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."playlists" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "isPublic" BOOLEAN NOT NULL DEFAULT false,
    "coverImage" TEXT,
    "playCount" INTEGER NOT NULL DEFAULT 0,
    "likeCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "playlists_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."refresh_tokens" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "userAgent" TEXT NOT NULL,
    "ipAddress" TEXT NOT NULL,
    "deviceFingerprint" TEXT,
    "isRevoked" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "refresh_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."reports" (
    "id" TEXT NOT NULL,
    "reporterId" TEXT NOT NULL,
    "targetType" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "evidence" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "priority" TEXT NOT NULL DEFAULT 'MEDIUM',
    "resolution" TEXT,
    "action" TEXT,
    "reviewedBy" TEXT,
    "reviewedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."reward_distributions" (
    "id" TEXT NOT NULL,
    "rewardId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "reason" TEXT,
    "metadata" TEXT,
    "fulfilledAt" TIMESTAMP(3),
    "trackingNumber" TEXT,
    "shippingAddress" TEXT,
    "awardedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "reward_distributions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."sessions" (
    "id" TEXT NOT NULL,
    "sessionToken" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "expires" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."stream_chat_messages" (
    "id" TEXT NOT NULL,
    "streamId" TEXT NOT NULL,
    "senderId" TEXT,
    "senderName" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'MESSAGE',
    "isHighlighted" BOOLEAN NOT NULL DEFAULT false,
    "isModerated" BOOLEAN NOT NULL DEFAULT false,
    "moderatedBy" TEXT,
    "moderationReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stream_chat_messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."stream_poll_votes" (
    "id" TEXT NOT NULL,
    "pollId" TEXT NOT NULL,
    "voterId" TEXT,
    "sessionId" TEXT NOT NULL,
    "optionIndex" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stream_poll_votes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."stream_polls" (
    "id" TEXT NOT NULL,
    "streamId" TEXT NOT NULL,
    "question" TEXT NOT NULL,
    "options" TEXT NOT NULL,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "allowMultiple" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "stream_polls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."stream_recordings" (
    "id" TEXT NOT NULL,
    "streamId" TEXT NOT NULL,
    "videoUrl" TEXT NOT NULL,
    "audioUrl" TEXT,
    "thumbnailUrl" TEXT,
    "duration" INTEGER NOT NULL,
    "fileSize" INTEGER NOT NULL,
    "quality" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PROCESSING',
    "processedAt" TIMESTAMP(3),
    "isPublic" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "stream_recordings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."stream_tips" (
    "id" TEXT NOT NULL,
    "streamId" TEXT NOT NULL,
    "tipperId" TEXT,
    "tipperName" TEXT NOT NULL,
    "amount" DECIMAL(65,30) NOT NULL,
    "message" TEXT,
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "stripePaymentIntentId" TEXT,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "processedAt" TIMESTAMP(3),
    "isAnonymous" BOOLEAN NOT NULL DEFAULT false,
    "showOnStream" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stream_tips_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."stream_viewers" (
    "id" TEXT NOT NULL,
    "streamId" TEXT NOT NULL,
    "viewerId" TEXT,
    "sessionId" TEXT NOT NULL,
    "displayName" TEXT,
    "isAnonymous" BOOLEAN NOT NULL DEFAULT false,
    "ipAddress" TEXT NOT NULL,
    "userAgent" TEXT NOT NULL,
    "joinedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leftAt" TIMESTAMP(3),
    "watchTime" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "stream_viewers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."subscriptions" (
    "id" TEXT NOT NULL,
    "fanId" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "tierId" TEXT NOT NULL,
    "stripeSubscriptionId" TEXT NOT NULL,
    "amount" DECIMAL(65,30) NOT NULL,
    "status" TEXT NOT NULL,
    "currentPeriodStart" TIMESTAMP(3) NOT NULL,
    "currentPeriodEnd" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."tiers" (
    "id" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "minimumPrice" DECIMAL(65,30) NOT NULL,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "subscriberCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "tiers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."users" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "password" TEXT,
    "role" TEXT NOT NULL DEFAULT 'FAN',
    "displayName" TEXT NOT NULL,
    "bio" TEXT,
    "avatar" TEXT,
    "socialLinks" JSONB,
    "notificationPreferences" JSONB,
    "emailVerified" TIMESTAMP(3),
    "image" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3),

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."verificationtokens" (
    "identifier" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "expires" TIMESTAMP(3) NOT NULL
);

-- CreateTable
CREATE TABLE "public"."_TierContent" (
    "A" TEXT NOT NULL,
    "B" TEXT NOT NULL,

    CONSTRAINT "_TierContent_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE INDEX "accounts_userId_idx" ON "public"."accounts"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_provider_providerAccountId_key" ON "public"."accounts"("provider", "providerAccountId");

-- CreateIndex
CREATE UNIQUE INDEX "artists_userId_key" ON "public"."artists"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "artists_stripeAccountId_key" ON "public"."artists"("stripeAccountId");

-- CreateIndex
CREATE INDEX "campaign_analytics_campaignId_date_idx" ON "public"."campaign_analytics"("campaignId", "date");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_analytics_campaignId_date_key" ON "public"."campaign_analytics"("campaignId", "date");

-- CreateIndex
CREATE INDEX "campaigns_artistId_status_idx" ON "public"."campaigns"("artistId", "status");

-- CreateIndex
CREATE INDEX "campaigns_startDate_endDate_idx" ON "public"."campaigns"("startDate", "endDate");

-- CreateIndex
CREATE INDEX "campaigns_status_startDate_idx" ON "public"."campaigns"("status", "startDate");

-- CreateIndex
CREATE INDEX "challenge_leaderboards_challengeId_rank_idx" ON "public"."challenge_leaderboards"("challengeId", "rank");

-- CreateIndex
CREATE UNIQUE INDEX "challenge_leaderboards_challengeId_userId_key" ON "public"."challenge_leaderboards"("challengeId", "userId");

-- CreateIndex
CREATE INDEX "challenge_participations_participantId_status_idx" ON "public"."challenge_participations"("participantId", "status");

-- CreateIndex
CREATE INDEX "challenge_participations_challengeId_status_idx" ON "public"."challenge_participations"("challengeId", "status");

-- CreateIndex
CREATE INDEX "challenge_participations_challengeId_lastActiveAt_idx" ON "public"."challenge_participations"("challengeId", "lastActiveAt");

-- CreateIndex
CREATE UNIQUE INDEX "challenge_participations_challengeId_participantId_key" ON "public"."challenge_participations"("challengeId", "participantId");

-- CreateIndex
CREATE INDEX "challenge_submissions_challengeId_status_idx" ON "public"."challenge_submissions"("challengeId", "status");

-- CreateIndex
CREATE INDEX "challenge_submissions_submitterId_idx" ON "public"."challenge_submissions"("submitterId");

-- CreateIndex
CREATE INDEX "challenge_submissions_challengeId_submittedAt_idx" ON "public"."challenge_submissions"("challengeId", "submittedAt");

-- CreateIndex
CREATE INDEX "challenge_submissions_reviewStatus_idx" ON "public"."challenge_submissions"("reviewStatus");

-- CreateIndex
CREATE INDEX "challenges_campaignId_status_idx" ON "public"."challenges"("campaignId", "status");

-- CreateIndex
CREATE INDEX "challenges_startDate_endDate_idx" ON "public"."challenges"("startDate", "endDate");

-- CreateIndex
CREATE INDEX "comments_contentId_createdAt_idx" ON "public"."comments"("contentId", "createdAt");

-- CreateIndex
CREATE INDEX "comments_fanId_idx" ON "public"."comments"("fanId");

-- CreateIndex
CREATE INDEX "content_artistId_visibility_idx" ON "public"."content"("artistId", "visibility");

-- CreateIndex
CREATE INDEX "content_type_visibility_idx" ON "public"."content"("type", "visibility");

-- CreateIndex
CREATE INDEX "content_createdAt_idx" ON "public"."content"("createdAt");

-- CreateIndex
CREATE INDEX "content_totalViews_idx" ON "public"."content"("totalViews");

-- CreateIndex
CREATE INDEX "content_artistId_type_createdAt_idx" ON "public"."content"("artistId", "type", "createdAt");

-- CreateIndex
CREATE INDEX "content_visibility_createdAt_idx" ON "public"."content"("visibility", "createdAt");

-- CreateIndex
CREATE INDEX "content_tags_idx" ON "public"."content"("tags");

-- CreateIndex
CREATE INDEX "content_likes_userId_idx" ON "public"."content_likes"("userId");

-- CreateIndex
CREATE INDEX "content_likes_contentId_idx" ON "public"."content_likes"("contentId");

-- CreateIndex
CREATE UNIQUE INDEX "content_likes_userId_contentId_key" ON "public"."content_likes"("userId", "contentId");

-- CreateIndex
CREATE INDEX "content_views_viewerId_idx" ON "public"."content_views"("viewerId");

-- CreateIndex
CREATE INDEX "content_views_contentId_viewerId_idx" ON "public"."content_views"("contentId", "viewerId");

-- CreateIndex
CREATE INDEX "content_views_contentId_createdAt_idx" ON "public"."content_views"("contentId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "content_views_contentId_viewerId_createdAt_key" ON "public"."content_views"("contentId", "viewerId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "invoices_stripeInvoiceId_key" ON "public"."invoices"("stripeInvoiceId");

-- CreateIndex
CREATE INDEX "invoices_subscriptionId_status_idx" ON "public"."invoices"("subscriptionId", "status");

-- CreateIndex
CREATE INDEX "invoices_dueDate_idx" ON "public"."invoices"("dueDate");

-- CreateIndex
CREATE INDEX "invoices_status_paidAt_idx" ON "public"."invoices"("status", "paidAt");

-- CreateIndex
CREATE INDEX "invoices_createdAt_idx" ON "public"."invoices"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "live_streams_streamKey_key" ON "public"."live_streams"("streamKey");

-- CreateIndex
CREATE INDEX "live_streams_artistId_status_idx" ON "public"."live_streams"("artistId", "status");

-- CreateIndex
CREATE INDEX "live_streams_scheduledAt_idx" ON "public"."live_streams"("scheduledAt");

-- CreateIndex
CREATE INDEX "live_streams_isPublic_status_idx" ON "public"."live_streams"("isPublic", "status");

-- CreateIndex
CREATE INDEX "live_streams_status_startedAt_idx" ON "public"."live_streams"("status", "startedAt");

-- CreateIndex
CREATE INDEX "messages_senderId_createdAt_idx" ON "public"."messages"("senderId", "createdAt");

-- CreateIndex
CREATE INDEX "messages_recipientId_readAt_idx" ON "public"."messages"("recipientId", "readAt");

-- CreateIndex
CREATE INDEX "messages_recipientId_createdAt_idx" ON "public"."messages"("recipientId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "oauth_tokens_userId_provider_key" ON "public"."oauth_tokens"("userId", "provider");

-- CreateIndex
CREATE UNIQUE INDEX "payment_failures_stripeInvoiceId_key" ON "public"."payment_failures"("stripeInvoiceId");

-- CreateIndex
CREATE INDEX "payment_failures_subscriptionId_isResolved_idx" ON "public"."payment_failures"("subscriptionId", "isResolved");

-- CreateIndex
CREATE INDEX "payment_failures_nextRetryAt_idx" ON "public"."payment_failures"("nextRetryAt");

-- CreateIndex
CREATE UNIQUE INDEX "playlist_items_playlistId_contentId_key" ON "public"."playlist_items"("playlistId", "contentId");

-- CreateIndex
CREATE UNIQUE INDEX "playlist_items_playlistId_position_key" ON "public"."playlist_items"("playlistId", "position");

-- CreateIndex
CREATE INDEX "playlist_likes_userId_idx" ON "public"."playlist_likes"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "playlist_likes_userId_playlistId_key" ON "public"."playlist_likes"("userId", "playlistId");

-- CreateIndex
CREATE INDEX "playlists_userId_idx" ON "public"."playlists"("userId");

-- CreateIndex
CREATE INDEX "playlists_isPublic_createdAt_idx" ON "public"."playlists"("isPublic", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "refresh_tokens_tokenHash_key" ON "public"."refresh_tokens"("tokenHash");

-- CreateIndex
CREATE INDEX "refresh_tokens_userId_isRevoked_idx" ON "public"."refresh_tokens"("userId", "isRevoked");

-- CreateIndex
CREATE INDEX "refresh_tokens_expiresAt_idx" ON "public"."refresh_tokens"("expiresAt");

-- CreateIndex
CREATE INDEX "reports_reporterId_idx" ON "public"."reports"("reporterId");

-- CreateIndex
CREATE INDEX "reports_targetType_targetId_idx" ON "public"."reports"("targetType", "targetId");

-- CreateIndex
CREATE INDEX "reports_status_idx" ON "public"."reports"("status");

-- CreateIndex
CREATE INDEX "reports_reviewedBy_idx" ON "public"."reports"("reviewedBy");

-- CreateIndex
CREATE INDEX "reward_distributions_userId_status_idx" ON "public"."reward_distributions"("userId", "status");

-- CreateIndex
CREATE INDEX "reward_distributions_rewardId_idx" ON "public"."reward_distributions"("rewardId");

-- CreateIndex
CREATE INDEX "reward_distributions_awardedAt_idx" ON "public"."reward_distributions"("awardedAt");

-- CreateIndex
CREATE UNIQUE INDEX "reward_distributions_rewardId_userId_key" ON "public"."reward_distributions"("rewardId", "userId");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_sessionToken_key" ON "public"."sessions"("sessionToken");

-- CreateIndex
CREATE INDEX "sessions_userId_idx" ON "public"."sessions"("userId");

-- CreateIndex
CREATE INDEX "sessions_expires_idx" ON "public"."sessions"("expires");

-- CreateIndex
CREATE INDEX "stream_chat_messages_streamId_createdAt_idx" ON "public"."stream_chat_messages"("streamId", "createdAt");

-- CreateIndex
CREATE INDEX "stream_chat_messages_senderId_idx" ON "public"."stream_chat_messages"("senderId");

-- CreateIndex
CREATE UNIQUE INDEX "stream_poll_votes_pollId_sessionId_key" ON "public"."stream_poll_votes"("pollId", "sessionId");

-- CreateIndex
CREATE INDEX "stream_polls_streamId_isActive_idx" ON "public"."stream_polls"("streamId", "isActive");

-- CreateIndex
CREATE UNIQUE INDEX "stream_tips_stripePaymentIntentId_key" ON "public"."stream_tips"("stripePaymentIntentId");

-- CreateIndex
CREATE INDEX "stream_tips_streamId_createdAt_idx" ON "public"."stream_tips"("streamId", "createdAt");

-- CreateIndex
CREATE INDEX "stream_tips_tipperId_idx" ON "public"."stream_tips"("tipperId");

-- CreateIndex
CREATE INDEX "stream_tips_status_idx" ON "public"."stream_tips"("status");

-- CreateIndex
CREATE UNIQUE INDEX "stream_viewers_sessionId_key" ON "public"."stream_viewers"("sessionId");

-- CreateIndex
CREATE INDEX "stream_viewers_streamId_joinedAt_idx" ON "public"."stream_viewers"("streamId", "joinedAt");

-- CreateIndex
CREATE INDEX "stream_viewers_viewerId_idx" ON "public"."stream_viewers"("viewerId");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_stripeSubscriptionId_key" ON "public"."subscriptions"("stripeSubscriptionId");

-- CreateIndex
CREATE INDEX "subscriptions_fanId_idx" ON "public"."subscriptions"("fanId");

-- CreateIndex
CREATE INDEX "subscriptions_artistId_idx" ON "public"."subscriptions"("artistId");

-- CreateIndex
CREATE INDEX "subscriptions_status_idx" ON "public"."subscriptions"("status");

-- CreateIndex
CREATE INDEX "subscriptions_currentPeriodEnd_idx" ON "public"."subscriptions"("currentPeriodEnd");

-- CreateIndex
CREATE INDEX "subscriptions_fanId_status_idx" ON "public"."subscriptions"("fanId", "status");

-- CreateIndex
CREATE INDEX "subscriptions_artistId_status_idx" ON "public"."subscriptions"("artistId", "status");

-- CreateIndex
CREATE INDEX "subscriptions_status_currentPeriodEnd_idx" ON "public"."subscriptions"("status", "currentPeriodEnd");

-- CreateIndex
CREATE INDEX "subscriptions_fanId_artistId_status_idx" ON "public"."subscriptions"("fanId", "artistId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_fanId_tierId_key" ON "public"."subscriptions"("fanId", "tierId");

-- CreateIndex
CREATE INDEX "tiers_artistId_isActive_idx" ON "public"."tiers"("artistId", "isActive");

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "public"."users"("email");

-- CreateIndex
CREATE INDEX "users_role_createdAt_idx" ON "public"."users"("role", "createdAt");

-- CreateIndex
CREATE INDEX "users_lastSeenAt_idx" ON "public"."users"("lastSeenAt");

-- CreateIndex
CREATE INDEX "users_emailVerified_idx" ON "public"."users"("emailVerified");

-- CreateIndex
CREATE UNIQUE INDEX "verificationtokens_token_key" ON "public"."verificationtokens"("token");

-- CreateIndex
CREATE UNIQUE INDEX "verificationtokens_identifier_token_key" ON "public"."verificationtokens"("identifier", "token");

-- CreateIndex
CREATE INDEX "_TierContent_B_index" ON "public"."_TierContent"("B");

-- AddForeignKey
ALTER TABLE "public"."accounts" ADD CONSTRAINT "accounts_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."artists" ADD CONSTRAINT "artists_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."campaign_analytics" ADD CONSTRAINT "campaign_analytics_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "public"."campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."campaign_rewards" ADD CONSTRAINT "campaign_rewards_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "public"."campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."campaign_rewards" ADD CONSTRAINT "campaign_rewards_contentId_fkey" FOREIGN KEY ("contentId") REFERENCES "public"."content"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."campaigns" ADD CONSTRAINT "campaigns_artistId_fkey" FOREIGN KEY ("artistId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenge_leaderboards" ADD CONSTRAINT "challenge_leaderboards_challengeId_fkey" FOREIGN KEY ("challengeId") REFERENCES "public"."challenges"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenge_leaderboards" ADD CONSTRAINT "challenge_leaderboards_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenge_participations" ADD CONSTRAINT "challenge_participations_challengeId_fkey" FOREIGN KEY ("challengeId") REFERENCES "public"."challenges"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenge_participations" ADD CONSTRAINT "challenge_participations_participantId_fkey" FOREIGN KEY ("participantId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenge_submissions" ADD CONSTRAINT "challenge_submissions_challengeId_fkey" FOREIGN KEY ("challengeId") REFERENCES "public"."challenges"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenge_submissions" ADD CONSTRAINT "challenge_submissions_participationId_fkey" FOREIGN KEY ("participationId") REFERENCES "public"."challenge_participations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenge_submissions" ADD CONSTRAINT "challenge_submissions_submitterId_fkey" FOREIGN KEY ("submitterId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."challenges" ADD CONSTRAINT "challenges_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "public"."campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."comments" ADD CONSTRAINT "comments_fanId_fkey" FOREIGN KEY ("fanId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."comments" ADD CONSTRAINT "comments_contentId_fkey" FOREIGN KEY ("contentId") REFERENCES "public"."content"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."content" ADD CONSTRAINT "content_artistId_fkey" FOREIGN KEY ("artistId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."content_likes" ADD CONSTRAINT "content_likes_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."content_likes" ADD CONSTRAINT "content_likes_contentId_fkey" FOREIGN KEY ("contentId") REFERENCES "public"."content"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."content_views" ADD CONSTRAINT "content_views_contentId_fkey" FOREIGN KEY ("contentId") REFERENCES "public"."content"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."content_views" ADD CONSTRAINT "content_views_viewerId_fkey" FOREIGN KEY ("viewerId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."invoices" ADD CONSTRAINT "invoices_subscriptionId_fkey" FOREIGN KEY ("subscriptionId") REFERENCES "public"."subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."live_streams" ADD CONSTRAINT "live_streams_artistId_fkey" FOREIGN KEY ("artistId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."messages" ADD CONSTRAINT "messages_recipientId_fkey" FOREIGN KEY ("recipientId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."messages" ADD CONSTRAINT "messages_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."oauth_tokens" ADD CONSTRAINT "oauth_tokens_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."payment_failures" ADD CONSTRAINT "payment_failures_subscriptionId_fkey" FOREIGN KEY ("subscriptionId") REFERENCES "public"."subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."playlist_items" ADD CONSTRAINT "playlist_items_playlistId_fkey" FOREIGN KEY ("playlistId") REFERENCES "public"."playlists"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."playlist_items" ADD CONSTRAINT "playlist_items_contentId_fkey" FOREIGN KEY ("contentId") REFERENCES "public"."content"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."playlist_likes" ADD CONSTRAINT "playlist_likes_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."playlist_likes" ADD CONSTRAINT "playlist_likes_playlistId_fkey" FOREIGN KEY ("playlistId") REFERENCES "public"."playlists"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."playlists" ADD CONSTRAINT "playlists_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."refresh_tokens" ADD CONSTRAINT "refresh_tokens_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."reports" ADD CONSTRAINT "reports_reviewedBy_fkey" FOREIGN KEY ("reviewedBy") REFERENCES "public"."users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."reports" ADD CONSTRAINT "reports_reporterId_fkey" FOREIGN KEY ("reporterId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."reward_distributions" ADD CONSTRAINT "reward_distributions_rewardId_fkey" FOREIGN KEY ("rewardId") REFERENCES "public"."campaign_rewards"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."reward_distributions" ADD CONSTRAINT "reward_distributions_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."sessions" ADD CONSTRAINT "sessions_userId_fkey" FOREIGN KEY ("userId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_chat_messages" ADD CONSTRAINT "stream_chat_messages_streamId_fkey" FOREIGN KEY ("streamId") REFERENCES "public"."live_streams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_chat_messages" ADD CONSTRAINT "stream_chat_messages_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "public"."users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_poll_votes" ADD CONSTRAINT "stream_poll_votes_pollId_fkey" FOREIGN KEY ("pollId") REFERENCES "public"."stream_polls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_poll_votes" ADD CONSTRAINT "stream_poll_votes_voterId_fkey" FOREIGN KEY ("voterId") REFERENCES "public"."users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_polls" ADD CONSTRAINT "stream_polls_streamId_fkey" FOREIGN KEY ("streamId") REFERENCES "public"."live_streams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_recordings" ADD CONSTRAINT "stream_recordings_streamId_fkey" FOREIGN KEY ("streamId") REFERENCES "public"."live_streams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_tips" ADD CONSTRAINT "stream_tips_streamId_fkey" FOREIGN KEY ("streamId") REFERENCES "public"."live_streams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_tips" ADD CONSTRAINT "stream_tips_tipperId_fkey" FOREIGN KEY ("tipperId") REFERENCES "public"."users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_viewers" ADD CONSTRAINT "stream_viewers_streamId_fkey" FOREIGN KEY ("streamId") REFERENCES "public"."live_streams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."stream_viewers" ADD CONSTRAINT "stream_viewers_viewerId_fkey" FOREIGN KEY ("viewerId") REFERENCES "public"."users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."subscriptions" ADD CONSTRAINT "subscriptions_tierId_fkey" FOREIGN KEY ("tierId") REFERENCES "public"."tiers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."subscriptions" ADD CONSTRAINT "subscriptions_fanId_fkey" FOREIGN KEY ("fanId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."tiers" ADD CONSTRAINT "tiers_artistId_fkey" FOREIGN KEY ("artistId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."_TierContent" ADD CONSTRAINT "_TierContent_A_fkey" FOREIGN KEY ("A") REFERENCES "public"."content"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "public"."_TierContent" ADD CONSTRAINT "_TierContent_B_fkey" FOREIGN KEY ("B") REFERENCES "public"."tiers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
"""),
    ("20250922_performance_indexes", """-- Performance optimization indexes
-- This migration adds indexes for frequently queried columns to improve performance

-- Users table indexes
CREATE INDEX IF NOT EXISTS "users_role_idx" ON "users"("role");
CREATE INDEX IF NOT EXISTS "users_createdAt_idx" ON "users"("createdAt");
CREATE INDEX IF NOT EXISTS "users_role_createdAt_idx" ON "users"("role", "createdAt");

-- Payment failures table indexes (actual table name)
CREATE INDEX IF NOT EXISTS "payment_failures_createdAt_idx" ON "payment_failures"("createdAt");

-- Content table indexes  
CREATE INDEX IF NOT EXISTS "content_artistId_idx" ON "content"("artistId");
CREATE INDEX IF NOT EXISTS "content_createdAt_idx" ON "content"("createdAt");
CREATE INDEX IF NOT EXISTS "content_artistId_createdAt_idx" ON "content"("artistId", "createdAt");

-- Subscriptions table indexes
CREATE INDEX IF NOT EXISTS "subscriptions_artistId_idx" ON "subscriptions"("artistId");
CREATE INDEX IF NOT EXISTS "subscriptions_status_idx" ON "subscriptions"("status");
CREATE INDEX IF NOT EXISTS "subscriptions_artistId_status_idx" ON "subscriptions"("artistId", "status");
CREATE INDEX IF NOT EXISTS "subscriptions_createdAt_idx" ON "subscriptions"("createdAt");

-- Messages table indexes
CREATE INDEX IF NOT EXISTS "messages_recipientId_idx" ON "messages"("recipientId");
CREATE INDEX IF NOT EXISTS "messages_recipientId_readAt_idx" ON "messages"("recipientId", "readAt");
CREATE INDEX IF NOT EXISTS "messages_createdAt_idx" ON "messages"("createdAt");

-- Comments table indexes
CREATE INDEX IF NOT EXISTS "comments_createdAt_idx" ON "comments"("createdAt");"""),
    ("20250923_add_ai_features", """-- Migration for AI Features
-- Adds support for content moderation, AI metadata, and revenue optimization tracking

-- Add new fields to content table for AI moderation and metadata
ALTER TABLE content ADD COLUMN IF NOT EXISTS status VARCHAR(50) DEFAULT 'PUBLISHED';
ALTER TABLE content ADD COLUMN IF NOT EXISTS metadata TEXT;
ALTER TABLE content ADD COLUMN IF NOT EXISTS reviewedAt TIMESTAMP;
ALTER TABLE content ADD COLUMN IF NOT EXISTS reviewedBy VARCHAR(255);
ALTER TABLE content ADD COLUMN IF NOT EXISTS reviewReason TEXT;

-- Create moderation log table (optional - for detailed moderation tracking)
CREATE TABLE IF NOT EXISTS moderation_logs (
    id VARCHAR(255) PRIMARY KEY,
    contentId VARCHAR(255) NOT NULL,
    userId VARCHAR(255) NOT NULL,
    result TEXT NOT NULL,
    status VARCHAR(50) DEFAULT 'PENDING_REVIEW',
    createdAt TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    
    CONSTRAINT fk_moderation_content 
        FOREIGN KEY (contentId) 
        REFERENCES content(id) 
        ON DELETE CASCADE,
        
    CONSTRAINT fk_moderation_user 
        FOREIGN KEY (userId) 
        REFERENCES users(id) 
        ON DELETE CASCADE
);

-- Create price optimization tracking table (optional - for revenue optimization)
CREATE TABLE IF NOT EXISTS price_optimizations (
    id VARCHAR(255) PRIMARY KEY,
    artistId VARCHAR(255) NOT NULL,
    originalPriceId VARCHAR(255) NOT NULL,
    testPriceId VARCHAR(255),
    originalAmount DECIMAL(10,2) NOT NULL,
    optimizedAmount DECIMAL(10,2) NOT NULL,
    testStartDate TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    testEndDate TIMESTAMP,
    status VARCHAR(50) DEFAULT 'TESTING',
    isActive BOOLEAN DEFAULT TRUE,
    results TEXT,
    createdAt TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updatedAt TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    
    CONSTRAINT fk_price_optimization_artist 
        FOREIGN KEY (artistId) 
        REFERENCES users(id) 
        ON DELETE CASCADE
);

-- Create AI agent logs table (optional - for agent performance tracking)
CREATE TABLE IF NOT EXISTS ai_agent_logs (
    id VARCHAR(255) PRIMARY KEY,
    agentId VARCHAR(255) NOT NULL,
    agentType VARCHAR(100) NOT NULL,
    taskType VARCHAR(100) NOT NULL,
    taskData TEXT,
    result TEXT,
    success BOOLEAN DEFAULT FALSE,
    processingTimeMs INTEGER DEFAULT 0,
    errorMessage TEXT,
    createdAt TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- Add indexes for better performance on new fields
CREATE INDEX IF NOT EXISTS idx_content_status ON content(status);
CREATE INDEX IF NOT EXISTS idx_content_reviewed_at ON content(reviewedAt);
CREATE INDEX IF NOT EXISTS idx_content_metadata ON content USING gin(to_tsvector('english', metadata)) WHERE metadata IS NOT NULL; -- Full-text index on metadata

-- Add indexes for moderation_logs
CREATE INDEX IF NOT EXISTS idx_moderation_logs_content ON moderation_logs(contentId, createdAt);
CREATE INDEX IF NOT EXISTS idx_moderation_logs_user ON moderation_logs(userId, createdAt);
CREATE INDEX IF NOT EXISTS idx_moderation_logs_status ON moderation_logs(status, createdAt);

-- Add indexes for price_optimizations
CREATE INDEX IF NOT EXISTS idx_price_opt_artist ON price_optimizations(artistId, createdAt);
CREATE INDEX IF NOT EXISTS idx_price_opt_status ON price_optimizations(status, isActive);
CREATE INDEX IF NOT EXISTS idx_price_opt_test_dates ON price_optimizations(testStartDate, testEndDate);

-- Add indexes for ai_agent_logs
CREATE INDEX IF NOT EXISTS idx_agent_logs_agent_type ON ai_agent_logs(agentType, createdAt);
CREATE INDEX IF NOT EXISTS idx_agent_logs_success ON ai_agent_logs(success, createdAt);
CREATE INDEX IF NOT EXISTS idx_agent_logs_task_type ON ai_agent_logs(taskType, createdAt);

-- Update content status values for existing content (set all existing content as published)
UPDATE content 
SET status = 'PUBLISHED' 
WHERE status IS NULL;

-- Add some sample metadata structure for existing content
UPDATE content 
SET metadata = '{"upload":{"uploadTimestamp":"' || "createdAt" || '"}}'
WHERE metadata IS NULL;

-- Add comments explaining the new fields
COMMENT ON COLUMN content.status IS 'Content status: PUBLISHED, PENDING_REVIEW, REJECTED';
COMMENT ON COLUMN content.metadata IS 'JSON metadata including AI moderation results and upload info';
COMMENT ON COLUMN content.reviewedAt IS 'Timestamp when content was reviewed by admin';
COMMENT ON COLUMN content.reviewedBy IS 'User ID of admin who reviewed the content';
COMMENT ON COLUMN content.reviewReason IS 'Reason for approval/rejection';

COMMENT ON TABLE moderation_logs IS 'Detailed AI moderation results for admin review';
COMMENT ON TABLE price_optimizations IS 'Revenue optimization and dynamic pricing test results';
COMMENT ON TABLE ai_agent_logs IS 'Performance and execution logs for AI agents';"""),
)
