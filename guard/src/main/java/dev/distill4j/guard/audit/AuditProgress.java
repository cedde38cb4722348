package dev.distill4j.guard.audit;

/** Hears how far a long audit step is: {@code done} of {@code total} units (texts, requests) of {@code phase}. */
@FunctionalInterface
public interface AuditProgress {
    void update(String phase, long done, long total);

    AuditProgress NONE = (phase, done, total) -> {};
}
