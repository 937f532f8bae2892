package org.outlierlab.jobs;

import java.nio.file.Files;
import java.nio.file.Path;

/** A small corpus of Python files made by a test, tokenised by the data-prep job as a user would run it. */
public final class TestTokens {
  private TestTokens() {}

  /** 20 files of 20 short functions each, packed into rows of 16 tokens, a fifth of them for validation. */
  public static String prepare(Path dir) throws Exception {
    Path corpus = Files.createDirectories(dir.resolve("corpus"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(corpus.resolve("f" + i + ".py"), ("def f" + i + "(x):\n    return x + " + i + "\n").repeat(20));
    }
    String out = dir.resolve("tokens").toString();
    Main.run(new String[] {"data-prep", "--master", "local[2]", "--spark.ui.enabled", "false", "--input",
        corpus.toString(), "--mode", "pack", "--seq_len", "16", "--validation_fraction", "0.2", "--out", out});
    return out;
  }
}
