package dev.distill4j.core;

public enum SampleStatus { PENDING, DONE, FAILED }
