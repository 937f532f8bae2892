package org.outlierlab.dataprep.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileLockTest {
  @TempDir
  java.nio.file.Path dir;

  final Configuration conf = new Configuration();

  Path lock() {
    return new Path(dir.resolve("runs/.a.lock").toString());
  }

  @Test
  void ofManyAtOnceExactlyOneTakesTheLockAndTheOthersAreToldWhoHoldsIt() throws Exception {
    int contenders = 8;
    ExecutorService pool = Executors.newFixedThreadPool(contenders);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Object>> outcomes = new ArrayList<>();
    for (int i = 0; i < contenders; i++) {
      String purpose = "contender " + i;
      outcomes.add(pool.submit(() -> {
        start.await();
        try {
          return FileLock.tryAcquire(lock(), purpose, conf);
        } catch (FileLock.HeldException e) {
          return e;
        }
      }));
    }
    start.countDown();
    List<FileLock> held = new ArrayList<>();
    List<FileLock.HeldException> refused = new ArrayList<>();
    for (Future<Object> f : outcomes) {
      Object o = f.get();
      if (o instanceof FileLock l) {
        held.add(l);
      } else {
        refused.add((FileLock.HeldException) o);
      }
    }
    pool.shutdown();
    assertEquals(1, held.size(), "exactly one holder");
    assertEquals(contenders - 1, refused.size());
    String text = Files.readString(dir.resolve("runs/.a.lock"));
    assertTrue(text.startsWith("host ") && text.contains(" pid " + ProcessHandle.current().pid()), text);
    for (FileLock.HeldException e : refused) {
      assertEquals(text.trim(), e.holder().description(), "the refusal names the holder");
      assertTrue(e.getMessage().contains(lock().toString()) && e.getMessage().contains("last heartbeat"), e.getMessage());
    }
    held.get(0).close();
    assertFalse(Files.exists(dir.resolve("runs/.a.lock")), "released");
    FileLock.tryAcquire(lock(), "after", conf).close(); // free again
  }

  @Test
  void aLockOfAProcessOfThisHostThatIsGoneIsTakenOverAtOnce() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    String self = FileLock.describeSelf("a dead trainer");
    String dead = self.replaceFirst(" pid \\d+", " pid " + p.pid());
    Files.createDirectories(dir.resolve("runs"));
    Files.writeString(dir.resolve("runs/.a.lock"), dead);
    try (FileLock lock = FileLock.tryAcquire(lock(), "resume", conf)) {
      assertTrue(Files.readString(dir.resolve("runs/.a.lock")).contains(", resume"));
    }
  }

  @Test
  void aLiveHoldersLockIsRefusedUntilItsHeartbeatStops() throws Exception {
    Files.createDirectories(dir.resolve("runs"));
    java.nio.file.Path file = dir.resolve("runs/.a.lock");
    Files.writeString(file, "host elsewhere.example pid 1, since 2026-01-01T00:00:00Z, train a");
    FileLock.HeldException e = assertThrows(FileLock.HeldException.class, () -> FileLock.tryAcquire(lock(), "b", conf));
    assertTrue(e.holder().description().startsWith("host elsewhere.example"), e.getMessage());
    // a heartbeat older than STALE_AFTER: that driver is gone
    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()
        - FileLock.STALE_AFTER.toMillis() - 5_000));
    try (FileLock lock = FileLock.tryAcquire(lock(), "b", conf)) {
      assertTrue(Files.readString(file).endsWith(", b"));
    }
  }

  @Test
  void aWaiterGetsTheLockWhenItsHolderReleasesIt() throws Exception {
    FileLock first = FileLock.tryAcquire(lock(), "first", conf);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<FileLock> second = pool.submit(() -> FileLock.acquire(lock(), "second", conf));
    Thread.sleep(1500);
    assertFalse(second.isDone(), "waits while the first holds it");
    first.close();
    try (FileLock lock = second.get()) {
      assertTrue(Files.readString(dir.resolve("runs/.a.lock")).endsWith(", second"));
    }
    pool.shutdown();
  }
}
