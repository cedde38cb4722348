package dev.distill4j.serve;

import io.javalin.http.Context;
import java.time.Duration;

/**
 * One account's limits, as token buckets: requests per minute ({@code rpm}), tokens per minute ({@code tpm}, prompt
 * + completion) and tokens per UTC day ({@code daily_tokens}); 0 = no limit.
 *
 * <p>A per-minute bucket holds up to its limit and refills continuously at limit / 60 s, so a full minute's quota
 * may be spent in a burst and then comes back evenly (OpenAI's limits behave this way: "remaining" recovers
 * gradually and {@code x-ratelimit-reset-*} is the time until the bucket is full again). A request takes one request
 * token at admission. Token limits cannot know the completion's length in advance, so admission reserves the worst
 * case — the prompt plus {@code max_tokens} (or the server's default) for each of {@code n} choices — and
 * {@link #settle} gives back what the answer did not use. The daily count resets at UTC midnight.
 *
 * <p>All methods are synchronized: one account's requests arrive on many threads.
 */
final class RateLimiter {
    private static final long MINUTE_MS = 60_000;
    private static final long DAY_MS = 86_400_000;

    private long rpm;
    private long tpm;
    private long daily;
    private double requestLevel;
    private double tokenLevel;
    private long stamp;          // when the levels were last refilled
    private long day;            // epoch day of dayUsed
    private long dayUsed;

    RateLimiter(KeyFile.Account a, long now) {
        rpm = a.rpm();
        tpm = a.tpm();
        daily = a.dailyTokens();
        requestLevel = rpm;
        tokenLevel = tpm;
        stamp = now;
        day = now / DAY_MS;
    }

    /** A reloaded key file may change the limits; what was used so far still counts. */
    synchronized void update(KeyFile.Account a, long now) {
        refill(now);
        if (a.rpm() != rpm) requestLevel = a.rpm() == 0 ? 0 : rpm == 0 ? a.rpm() : Math.min(requestLevel, a.rpm());
        if (a.tpm() != tpm) tokenLevel = a.tpm() == 0 ? 0 : tpm == 0 ? a.tpm() : Math.min(tokenLevel, a.tpm());
        rpm = a.rpm();
        tpm = a.tpm();
        daily = a.dailyTokens();
    }

    synchronized boolean limited() { return rpm > 0 || tpm > 0 || daily > 0; }

    /** What a refusal says: which limit, the numbers for the message, and when to retry (-1: retrying cannot help). */
    record Refusal(String type, String limitName, long limit, long used, long requested, long retryAfterMs) {}

    /** Takes one request, or says why not. */
    synchronized Refusal admitRequest(long now) {
        refill(now);
        if (rpm == 0 || requestLevel >= 1) {
            if (rpm > 0) requestLevel -= 1;
            return null;
        }
        long wait = (long) Math.ceil((1 - requestLevel) * MINUTE_MS / rpm);
        return new Refusal("requests", "requests per min (RPM)", rpm, rpm - (long) Math.floor(requestLevel), 1, wait);
    }

    /** Reserves {@code tokens} against the token limits, or says why not (nothing is taken then). */
    synchronized Refusal reserveTokens(long now, long tokens) {
        refill(now);
        if (tpm > 0) {
            if (tokens > tpm) return new Refusal("tokens", "tokens per min (TPM)", tpm, 0, tokens, -1);
            if (tokenLevel < tokens) {
                long wait = (long) Math.ceil((tokens - tokenLevel) * MINUTE_MS / tpm);
                return new Refusal("tokens", "tokens per min (TPM)", tpm, tpm - (long) Math.floor(tokenLevel), tokens,
                        wait);
            }
        }
        if (daily > 0) {
            if (tokens > daily) return new Refusal("tokens", "tokens per day (TPD)", daily, 0, tokens, -1);
            if (dayUsed + tokens > daily) {
                return new Refusal("tokens", "tokens per day (TPD)", daily, dayUsed, tokens, (day + 1) * DAY_MS - now);
            }
        }
        if (tpm > 0) tokenLevel -= tokens;
        dayUsed += tokens;
        return null;
    }

    /**
     * After the answer: gives back {@code reserved - used} (or takes more, when the use was only known afterwards,
     * as for embeddings). A bucket never refills past its limit.
     */
    synchronized void settle(long now, long reserved, long used) {
        refill(now);
        long back = reserved - used;
        if (tpm > 0) tokenLevel = Math.min(tpm, tokenLevel + back);
        dayUsed = Math.max(0, dayUsed - back);
    }

    /**
     * OpenAI's {@code x-ratelimit-*} headers for the limits this account has. The token family shows the per-minute
     * limit, or the daily one when only that is set.
     */
    synchronized void headers(Context ctx, long now) {
        refill(now);
        if (rpm > 0) {
            ctx.header("x-ratelimit-limit-requests", Long.toString(rpm));
            ctx.header("x-ratelimit-remaining-requests", Long.toString(Math.max(0, (long) Math.floor(requestLevel))));
            ctx.header("x-ratelimit-reset-requests", goDuration((long) Math.ceil((rpm - requestLevel) * MINUTE_MS / rpm)));
        }
        if (tpm > 0) {
            ctx.header("x-ratelimit-limit-tokens", Long.toString(tpm));
            ctx.header("x-ratelimit-remaining-tokens", Long.toString(Math.max(0, (long) Math.floor(tokenLevel))));
            ctx.header("x-ratelimit-reset-tokens", goDuration((long) Math.ceil((tpm - tokenLevel) * MINUTE_MS / tpm)));
        } else if (daily > 0) {
            ctx.header("x-ratelimit-limit-tokens", Long.toString(daily));
            ctx.header("x-ratelimit-remaining-tokens", Long.toString(Math.max(0, daily - dayUsed)));
            ctx.header("x-ratelimit-reset-tokens", goDuration(dayUsed == 0 ? 0 : (day + 1) * DAY_MS - now));
        }
    }

    private void refill(long now) {
        long dt = Math.max(0, now - stamp);
        stamp = Math.max(stamp, now);
        if (rpm > 0) requestLevel = Math.min(rpm, requestLevel + (double) dt * rpm / MINUTE_MS);
        if (tpm > 0) tokenLevel = Math.min(tpm, tokenLevel + (double) dt * tpm / MINUTE_MS);
        if (now / DAY_MS != day) {
            day = now / DAY_MS;
            dayUsed = 0;
        }
    }

    /** Go's {@code time.Duration} text, as OpenAI writes its reset headers: "0s", "20ms", "1s", "1.5s", "6m0s", "1h2m3s". */
    static String goDuration(long ms) {
        if (ms <= 0) return "0s";
        if (ms < 1000) return ms + "ms";
        Duration d = Duration.ofMillis(ms);
        long h = d.toHours();
        long m = d.toMinutesPart();
        long s = d.toSecondsPart();
        long milli = d.toMillisPart();
        StringBuilder sb = new StringBuilder();
        if (h > 0) sb.append(h).append('h');
        if (h > 0 || m > 0) sb.append(m).append('m');
        sb.append(s);
        if (milli > 0) sb.append('.').append(String.format("%03d", milli).replaceAll("0+$", ""));
        return sb.append('s').toString();
    }
}
