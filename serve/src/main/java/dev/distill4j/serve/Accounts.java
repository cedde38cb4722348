package dev.distill4j.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The accounts of a {@link KeyFile}, who a request's key belongs to, and each account's {@link RateLimiter}. The file
 * is polled (modification time and size) and re-read once a change has settled: a version is read only when the next
 * poll finds it unchanged, because an editor or script that rewrites the file in place truncates it first, and a poll
 * landing in between would have installed an empty or half-written file — every account gone until the next poll
 * (seen in AccountsTest under load). A bad new version is logged and the old accounts stay. An account's limiter lives
 * as long as its name, so editing a limit or a key does not reset its use.
 */
final class Accounts implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Accounts.class);

    private final Path file;
    private final LongSupplier clock;
    private final ScheduledExecutorService poller;
    private final Map<String, RateLimiter> limiters = new ConcurrentHashMap<>();
    private volatile List<KeyFile.Account> accounts;
    /** Modification time, size and file key of the version read last (installed, or refused as bad). */
    private String version;
    /** A newer version seen by the last poll, read if the next poll still finds it; null when none. */
    private String settling;

    /** Reads the file (a bad file is an {@code InvalidInputException} naming file:line) and starts polling it. */
    Accounts(Path file, Duration poll, LongSupplier clock) throws IOException {
        this.file = file;
        this.clock = clock;
        this.version = version(file);
        install(KeyFile.read(file));
        if (accounts.isEmpty()) log.warn("{} holds no accounts: every request will get 401 until one is added", file);
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "distill-serve-keys");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::poll, poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void install(List<KeyFile.Account> list) {
        long now = clock.getAsLong();
        for (KeyFile.Account a : list) {
            limiters.compute(a.name(), (n, old) -> {
                if (old == null) return new RateLimiter(a, now);
                old.update(a, now);
                return old;
            });
        }
        limiters.keySet().retainAll(list.stream().map(KeyFile.Account::name).toList());
        accounts = List.copyOf(list);
    }

    /** One look at the file (the poller's, every poll interval; tests call it directly). */
    void poll() {
        try {
            String now = version(file);
            if (now.equals(version)) {
                settling = null;
                return;
            }
            if (!now.equals(settling)) {
                settling = now;    // changed since the last poll: it may still be being written
                return;
            }
            List<KeyFile.Account> list = KeyFile.read(file);
            if (!version(file).equals(now)) return;   // written to while read: settle again
            settling = null;
            version = now;
            install(list);
            log.info("reloaded {}: {} accounts", file, list.size());
        } catch (IOException | RuntimeException e) {
            version = settling;    // a bad version is reported once, not at every poll
            settling = null;
            // the message names file:line and never a line's text (the keys)
            log.warn("kept the previous {} accounts: could not reload {}: {}", accounts.size(), file, e.getMessage());
        }
    }

    private static String version(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        return a.lastModifiedTime().toMillis() + ":" + a.size() + ":" + a.fileKey();
    }

    int size() { return accounts.size(); }

    /**
     * The account whose key this is, or null. The given key's SHA-256 is compared with every account's in constant
     * time, without stopping at a match, so the time taken says nothing about which account (if any) matched.
     */
    KeyFile.Account find(String key) {
        byte[] digest = KeyFile.sha256(key);
        KeyFile.Account found = null;
        for (KeyFile.Account a : accounts) {
            if (MessageDigest.isEqual(digest, a.keySha256()) & found == null) found = a;
        }
        return found;
    }

    RateLimiter limiter(KeyFile.Account a) {
        // a reload may have dropped the account after its request was admitted: it finishes under its old limits
        RateLimiter r = limiters.get(a.name());
        return r != null ? r : new RateLimiter(a, clock.getAsLong());
    }

    @Override
    public void close() { poller.shutdownNow(); }
}
