package dev.distill4j.teacher;

import dev.distill4j.core.Usage;
import java.util.Optional;

/**
 * A spending limit in USD. Before a request starts it reserves the worst case (its prompt estimate plus its
 * {@code max_tokens} of output); when the answer comes, the reservation is settled at the billed usage. So however
 * many requests are in flight, the limit holds unless the prompt estimates were low; then spending can exceed it by
 * that error, and no new request starts.
 *
 * <p>Prices are USD per million tokens. Cached prompt tokens (OpenAI's {@code cached_tokens}, Anthropic's cache
 * reads) cost the cached price, which defaults to the input price.
 */
public final class Budget {
    private final double inputUsdPerMillion;
    private final double cachedInputUsdPerMillion;
    private final double outputUsdPerMillion;
    private final double limitUsd;
    private double spent;
    private double reserved;

    /** A handle on one reservation; settle or release it exactly once (later calls do nothing). */
    public final class Reservation {
        private final double usd;
        private boolean open = true;

        private Reservation(double usd) { this.usd = usd; }

        /** The worst-case cost held back. */
        public double usd() { return usd; }
    }

    /** @param limitUsd the most to spend, or null for no limit */
    public Budget(double inputUsdPerMillion, double outputUsdPerMillion, Double limitUsd) {
        this(inputUsdPerMillion, inputUsdPerMillion, outputUsdPerMillion, limitUsd);
    }

    /** @param limitUsd the most to spend, or null for no limit */
    public Budget(double inputUsdPerMillion, double cachedInputUsdPerMillion, double outputUsdPerMillion,
                  Double limitUsd) {
        if (inputUsdPerMillion < 0 || cachedInputUsdPerMillion < 0 || outputUsdPerMillion < 0) {
            throw new IllegalArgumentException("token prices must be ≥ 0");
        }
        if (limitUsd != null && (limitUsd.isNaN() || limitUsd < 0)) {
            throw new IllegalArgumentException("budget must be ≥ 0 USD, got " + limitUsd);
        }
        this.inputUsdPerMillion = inputUsdPerMillion;
        this.cachedInputUsdPerMillion = cachedInputUsdPerMillion;
        this.outputUsdPerMillion = outputUsdPerMillion;
        this.limitUsd = limitUsd == null ? Double.POSITIVE_INFINITY : limitUsd;
    }

    /** No limit and no prices: spends nothing and never refuses. */
    public static Budget unlimited() { return new Budget(0, 0, null); }

    /** What {@code usage} costs at these prices. */
    public double cost(Usage usage) {
        long cached = Math.min(usage.cachedPromptTokens(), usage.promptTokens());
        return ((usage.promptTokens() - cached) * inputUsdPerMillion + cached * cachedInputUsdPerMillion
                + usage.completionTokens() * outputUsdPerMillion) / 1e6;
    }

    /**
     * Holds back the worst-case cost of one request, or refuses (empty) when spent + reserved + it would exceed the
     * limit.
     */
    public synchronized Optional<Reservation> tryReserve(long promptTokens, long maxOutputTokens) {
        double worst = cost(new Usage(promptTokens, maxOutputTokens));
        if (spent + reserved + worst > limitUsd) return Optional.empty();
        reserved += worst;
        return Optional.of(new Reservation(worst));
    }

    /** Replaces the reservation by what the request was billed. */
    public synchronized void settle(Reservation r, Usage actual) {
        if (!close(r)) return;
        spent += cost(actual);
    }

    /** Gives a reservation back without spending, for a request that was never billed. */
    public synchronized void release(Reservation r) {
        close(r);
    }

    private boolean close(Reservation r) {
        if (!r.open) return false;
        r.open = false;
        reserved = Math.max(0, reserved - r.usd);
        return true;
    }

    public synchronized double spentUsd() { return spent; }

    public synchronized double reservedUsd() { return reserved; }

    /** The limit, or infinity when there is none. */
    public double limitUsd() { return limitUsd; }

    public boolean limited() { return limitUsd != Double.POSITIVE_INFINITY; }

    /** What may still be reserved. */
    public synchronized double remainingUsd() { return Math.max(0, limitUsd - spent - reserved); }

    public double inputUsdPerMillion() { return inputUsdPerMillion; }

    public double cachedInputUsdPerMillion() { return cachedInputUsdPerMillion; }

    public double outputUsdPerMillion() { return outputUsdPerMillion; }
}
