package org.outlierlab.jobs.sql;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;

/**
 * bin/oflab sql without a query: Spark's SQL CLI, run as bin/oflab runs it (its own JVM, since the CLI exits the
 * JVM when the user quits), statements typed on its standard input.
 */
class SqlShellTest {
  @TempDir Path dir;

  @Test
  void sqlWithoutAQueryIsSparksSqlShellWithTheViews() throws Exception {
    String wh = dir.resolve("wh").toString();
    TestWarehouse.write(wh);
    Path cwd = Files.createDirectories(dir.resolve("cwd"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    // The module flags Spark needs on Java 17 (surefire's argLine: the parent pom's java17.flags).
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("--add-opens") || a.startsWith("-XX:") || a.startsWith("-Djdk.")).forEach(command::add);
    command.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "sql",
        "--master", "local[1]", "--spark.ui.enabled", "false", "--spark.sql.shuffle.partitions", "2", "--warehouse", wh));
    Process shell = new ProcessBuilder(command).directory(cwd.toFile())
        .redirectOutput(dir.resolve("stdout").toFile()).redirectError(dir.resolve("stderr").toFile()).start();
    try (var in = shell.getOutputStream()) {
      in.write((TestWarehouse.PEAK_QUERY + ";\n"
          + "SELECT 'rows of run', count(*) FROM layer_metrics WHERE run_id = '007';\n"
          + "quit;\n").getBytes(UTF_8));
    }
    boolean exited = shell.waitFor(5, TimeUnit.MINUTES);
    if (!exited) {
      shell.destroyForcibly();
    }
    String out = Files.readString(dir.resolve("stdout"));
    String log = out + "\n--- stderr ---\n" + Files.readString(dir.resolve("stderr"));
    assertTrue(exited, "the shell quit: " + log);
    assertEquals(0, shell.exitValue(), log);
    assertTrue(out.contains("layer\tblock\tpeak_kurtosis\n"), "with a header\n" + log);
    for (String peak : TestWarehouse.PEAKS) {
      assertTrue(out.contains(peak.replace(' ', '\t') + "\n"), "the CLI prints rows tab-separated: " + peak + "\n" + log);
    }
    assertTrue(out.contains("rows of run\t12\n"), "run_id 007 is a string: 2 layers x 2 steps x 3 rows\n" + log);
    try (Stream<Path> left = Files.list(cwd)) {
      assertEquals(List.of(), left.toList(), "no metastore_db, derby.log or spark-warehouse in the working directory");
    }
  }
}
