package dev.distill4j.core.store;

/** A run store operation failed in SQLite (disk full, locked past the busy timeout, a damaged file). */
public final class RunStoreException extends RuntimeException {
    public RunStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
