package org.outlierlab.dataprep.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outputs on the local file system: each appears at its name only when published, replacing what was there. */
class AtomicOutputTest {
  @TempDir Path dir;

  static org.apache.hadoop.fs.Path hadoop(Path p) {
    return new org.apache.hadoop.fs.Path(p.toString());
  }

  static Path local(org.apache.hadoop.fs.Path p) {
    return Path.of(p.toUri().getPath());
  }

  List<String> names() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aFileAppearsWhenPublishedAndReplacesTheOldOne() throws IOException {
    Path target = Files.writeString(dir.resolve("views.sql"), "old");
    try (AtomicOutput file = AtomicOutput.file(hadoop(target), "t1", new Configuration())) {
      assertEquals(dir.resolve(".views.sql.t1.tmp"), local(file.staging()));
      Files.writeString(local(file.staging()), "new");
      assertEquals("old", Files.readString(target), "not yet published");
      file.publish();
    }
    assertEquals("new", Files.readString(target));
    assertEquals(List.of("views.sql"), names());
  }

  @Test
  void anUnpublishedOutputLeavesNothingBehind() throws IOException {
    try (AtomicOutput file = AtomicOutput.file(hadoop(dir.resolve("part-0.parquet")), "w", new Configuration())) {
      Files.writeString(local(file.staging()), "half");
    }
    try (AtomicOutput directory = AtomicOutput.directory(hadoop(dir.resolve("tokens")), false, new Configuration())) {
      assertTrue(Files.isDirectory(local(directory.staging())));
    }
    assertEquals(List.of(), names());
  }

  @Test
  void aDirectoryIsReplacedOnlyWhenAskedTo() throws IOException {
    Path target = Files.createDirectories(dir.resolve("tokens"));
    Files.writeString(target.resolve("old"), "");
    assertThrows(OutputExistsException.class, () -> AtomicOutput.directory(hadoop(target), false, new Configuration()));
    try (AtomicOutput directory = AtomicOutput.directory(hadoop(target), true, new Configuration())) {
      Files.writeString(local(directory.staging()).resolve("new"), "");
      directory.publish();
    }
    try (Stream<Path> files = Files.list(target)) {
      assertEquals(List.of("new"), files.map(p -> p.getFileName().toString()).toList());
    }
    assertEquals(List.of("tokens"), names());
  }

  @Test
  void aRelativeDirectoryIsStagedAtAPathEveryExecutorReadsAlike() throws IOException {
    // executors run in working directories of their own: the staging path they are handed must be absolute
    Path cwd = Path.of(System.getProperty("user.dir"));
    String relative = "target/atomic-output-" + java.util.UUID.randomUUID();
    try (AtomicOutput directory = AtomicOutput.directory(new org.apache.hadoop.fs.Path(relative), false,
        new Configuration())) {
      assertEquals("file", directory.staging().toUri().getScheme(), directory.staging().toString());
      assertEquals(cwd.resolve(relative).getParent(), local(directory.staging()).getParent());
      Files.writeString(local(directory.staging()).resolve("part-0"), "");
      directory.publish();
    }
    assertTrue(Files.exists(cwd.resolve(relative).resolve("part-0")), "published where the driver named it");
    Files.delete(cwd.resolve(relative).resolve("part-0"));
    Files.delete(cwd.resolve(relative));
  }
}
