package org.outlierlab.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What a piece of code prints, through Java's System.out and through Scala's Console (Dataset.show prints there;
 * it is bound to the System.out of the moment Scala's Console was first used, so System.setOut alone may miss it).
 */
public final class Stdout {
  public interface Body {
    void run() throws Exception;
  }

  private Stdout() {}

  public static String capture(Body body) throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);
    PrintStream stdout = System.out;
    Exception[] failure = new Exception[1];
    System.setOut(out);
    try {
      scala.Console.withOut(out, () -> {
        try {
          body.run();
        } catch (Exception e) {
          failure[0] = e;
        }
        return null;
      });
    } finally {
      System.setOut(stdout);
    }
    if (failure[0] != null) {
      throw failure[0];
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
