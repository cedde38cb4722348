package dev.distill4j.cli;

public final class Distill {
    public static void main(String[] args) {
        System.out.println("distill4j");
    }
}
