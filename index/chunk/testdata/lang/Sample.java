package com.example;

import java.util.List;

/** A sample. */
public class Sample {
    private int count;

    public Sample(int c) {
        this.count = c;
    }

    @Override
    public String toString() {
        return "Sample";
    }

    static class Nested {
        void run() {}
    }

    enum Mode { A, B }
}

interface Runner {
    void run();
}
