package org.outlierlab.dataprep;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * External reference programs (e.g. Debian's sentencepiece) used as test oracles. Where one is missing the
 * test is skipped with the install hint, unless OFLAB_REQUIRE_REFERENCE_TOOLS=1 (set by .ci/run) makes it fail.
 */
public final class ReferenceTools {
  private ReferenceTools() {}

  public static void require(String program, String debianPackage) {
    boolean found = System.getenv("PATH") != null
        && java.util.Arrays.stream(System.getenv("PATH").split(File.pathSeparator))
            .anyMatch(dir -> new File(dir, program).canExecute());
    String message = program + " is not installed (apt-get install " + debianPackage + ")";
    if (!found && "1".equals(System.getenv("OFLAB_REQUIRE_REFERENCE_TOOLS"))) {
      throw new IllegalStateException(message);
    }
    assumeTrue(found, message);
  }

  /** Runs a command, failing with its output if it exits non-zero; returns its standard output. */
  public static String run(List<String> command, File input) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(false);
    if (input != null) {
      pb.redirectInput(input);
    }
    File err = File.createTempFile("ref", ".err");
    pb.redirectError(err);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(command + " failed:\n" + java.nio.file.Files.readString(err.toPath()));
    }
    err.delete();
    return out;
  }
}
