package org.outlierlab.jobs;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The application jar (run after package, in verify) bundles no class that Spark's runtime classpath (the jars
 * a Spark distribution ships, spark-jobs/spark-runtime/target/classpath.txt) already has: with Spark's default class order
 * such a copy is dead weight, with spark.executor.userClassPathFirst it replaces Spark's own version.
 */
class AppJarIT {
  @Test
  void bundlesNoClassSparkProvides() throws IOException {
    Path appJar = Path.of(System.getProperty("oflab.appJar"));
    Path sparkClasspath = Path.of(System.getProperty("oflab.sparkClasspath"));
    assertTrue(Files.isRegularFile(appJar), appJar + " is missing: run mvn verify (it is built in package)");
    assertTrue(Files.isRegularFile(sparkClasspath), sparkClasspath + " is missing: build the spark-jobs/spark-runtime module "
        + "too (mvn verify from the project root)");

    Map<String, String> spark = new TreeMap<>(); // class entry -> the Spark jar that has it
    for (String jar : Files.readString(sparkClasspath).trim().split(java.io.File.pathSeparator)) {
      classes(Path.of(jar)).forEach(c -> spark.putIfAbsent(c, Path.of(jar).getFileName().toString()));
    }
    assertTrue(spark.containsKey("org/apache/spark/SparkContext.class"), "Spark's classpath has Spark");

    List<String> app = classes(appJar);
    assertTrue(app.contains("org/outlierlab/jobs/Main.class"), "the application jar has Outlier Lab");
    Map<String, String> duplicates = new TreeMap<>();
    app.stream().filter(spark::containsKey).forEach(c -> duplicates.put(c, spark.get(c)));
    if (!duplicates.isEmpty()) {
      StringBuilder message = new StringBuilder(duplicates.size() + " classes of " + appJar.getFileName()
          + " are also in Spark's runtime jars; exclude their artifact from the shade plugin in spark-jobs/pom.xml "
          + "(Spark provides it) or relocate them:");
      duplicates.forEach((c, jar) -> message.append("\n  ").append(c).append(" (in ").append(jar).append(')'));
      fail(message.toString());
    }
  }

  /** A jar's class entries, a multi-release jar's versioned ones under their class's name; no module-info. */
  private static List<String> classes(Path jar) {
    try (JarFile file = new JarFile(jar.toFile())) {
      return file.stream().map(e -> e.getName().replaceFirst("^META-INF/versions/\\d+/", ""))
          .filter(n -> n.endsWith(".class") && !n.endsWith("module-info.class")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(jar.toString(), e);
    }
  }
}
