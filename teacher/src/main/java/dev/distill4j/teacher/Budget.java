package dev.distill4j.teacher;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Usage;
import java.util.Optional;

/**
 * A spending limit in USD that is never passed by what the teacher bills.
 *
 * <p>Before a request is sent it reserves the request's worst case ({@link RequestSize#worstCase()}: an upper bound
 * on its prompt tokens, system prompt and chat framing included, plus {@code max_tokens} × choices of output); a
 * request starts only when spent + reserved + its worst case ≤ the limit. When the answer comes, the reservation is
 * settled at the billed usage, which is at most the worst case; an attempt that cost nothing (an error status, no
 * connection) releases it; an attempt whose answer was lost but may have been billed (a 2xx body that did not parse,
 * a timeout, a connection that broke after the request was sent) is settled at its worst case. So
 * spent ≤ spent + reserved ≤ limit at every moment, however many requests are in flight; the only way past it is a
 * server that bills more than the worst case it was asked for, and then no new request starts.
 *
 * <p>When a request does not fit while others are in flight, {@link #reserve} waits for them to settle (most finish
 * well under their worst case) and only refuses once nothing is in flight, so a harvest uses its budget to the last
 * request that fits instead of stopping at the first refusal.
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
    private int open;
    private double spentAtWorstCase;
    private long attemptsAtWorstCase;

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
            throw new InvalidInputException("token prices must be ≥ 0");
        }
        if (limitUsd != null && (limitUsd.isNaN() || limitUsd < 0)) {
            throw new InvalidInputException("budget must be ≥ 0 USD, got " + limitUsd);
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
     * Holds back the worst-case cost of one request, or refuses (empty) at once when spent + reserved + it would
     * exceed the limit.
     */
    public synchronized Optional<Reservation> tryReserve(long promptTokens, long maxOutputTokens) {
        double worst = cost(new Usage(promptTokens, maxOutputTokens));
        if (spent + reserved + worst > limitUsd) return Optional.empty();
        return Optional.of(open(worst));
    }

    /**
     * Holds back {@code worstCase}'s cost, waiting while it does not fit and other reservations are open (they may
     * settle for less). Empty when it does not fit with nothing else reserved: the budget is spent.
     *
     * @throws InterruptedException when interrupted while waiting (nothing is reserved then)
     */
    public synchronized Optional<Reservation> reserve(Usage worstCase) throws InterruptedException {
        double worst = cost(worstCase);
        while (spent + reserved + worst > limitUsd) {
            if (open == 0) return Optional.empty();
            wait();
        }
        return Optional.of(open(worst));
    }

    private Reservation open(double worst) {
        reserved += worst;
        open++;
        return new Reservation(worst);
    }

    /**
     * Holds {@code usd} whether it fits or not: for money already committed elsewhere, such as a provider batch that
     * an earlier run submitted and this one collects. Requests that do not fit beside it wait or are refused as usual.
     */
    public synchronized Reservation hold(double usd) {
        if (usd < 0 || Double.isNaN(usd)) throw new IllegalArgumentException("cannot hold " + usd + " USD");
        return open(usd);
    }

    /** Replaces the reservation by what the request was billed; returns that cost (0 when already closed). */
    public synchronized double settle(Reservation r, Usage actual) {
        if (!close(r)) return 0;
        double c = cost(actual);
        spent += c;
        return c;
    }

    /**
     * Spends the whole reservation: for an attempt that may have been billed but whose usage is unknown (its answer
     * was lost). Returns that cost (0 when already closed).
     */
    public synchronized double settleAtWorstCase(Reservation r) {
        if (!close(r)) return 0;
        spent += r.usd;
        spentAtWorstCase += r.usd;
        attemptsAtWorstCase++;
        return r.usd;
    }

    /** Gives a reservation back without spending, for a request that was never billed. */
    public synchronized void release(Reservation r) {
        close(r);
    }

    private boolean close(Reservation r) {
        if (!r.open) return false;
        r.open = false;
        open--;
        // exactly 0 with nothing open, so float residue never makes a waiting request wait for nothing
        reserved = open == 0 ? 0 : Math.max(0, reserved - r.usd);
        notifyAll();
        return true;
    }

    public synchronized double spentUsd() { return spent; }

    public synchronized double reservedUsd() { return reserved; }

    /** The part of {@link #spentUsd()} counted at the worst case for attempts whose answer (and usage) was lost. */
    public synchronized double spentAtWorstCaseUsd() { return spentAtWorstCase; }

    /** How many attempts were counted at their worst case. */
    public synchronized long attemptsAtWorstCase() { return attemptsAtWorstCase; }

    /** The limit, or infinity when there is none. */
    public double limitUsd() { return limitUsd; }

    public boolean limited() { return limitUsd != Double.POSITIVE_INFINITY; }

    /** What may still be reserved. */
    public synchronized double remainingUsd() { return Math.max(0, limitUsd - spent - reserved); }

    public double inputUsdPerMillion() { return inputUsdPerMillion; }

    public double cachedInputUsdPerMillion() { return cachedInputUsdPerMillion; }

    public double outputUsdPerMillion() { return outputUsdPerMillion; }
}
