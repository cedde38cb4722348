package dev.distill4j.core;

/** The tool version written into manifests and shown by {@code distill --version}. */
public final class Version {
    public static final String VERSION = "0.1.0-SNAPSHOT";

    private Version() {}
}
