package org.outlierlab.dataprep.fs;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive lock on a piece of a warehouse (a run being trained, a table being replaced): a small file created
 * only where none exists, naming its holder (host, pid, since when, what for), its modification time refreshed by
 * a heartbeat while held and the file deleted on {@link #close}. A lock left by a process that died (SIGKILL, a
 * lost machine) is stale, and taken over: at once when its holder was on this host and that pid is gone, else once
 * its heartbeat is older than {@link #STALE_AFTER}.
 *
 * <p>Creation is exclusive on a local disk (O_EXCL) and on HDFS (create without overwrite is atomic at the
 * NameNode). Object stores (s3a:) have no exclusive create; there two jobs started within the same second may both
 * believe they hold the lock.
 */
public final class FileLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileLock.class);
  static final Duration HEARTBEAT = Duration.ofSeconds(10);
  public static final Duration STALE_AFTER = Duration.ofSeconds(60);

  private final FileSystem fs;
  private final Path path;
  private final ScheduledExecutorService heartbeat;

  private FileLock(FileSystem fs, Path path) {
    this.fs = fs;
    this.path = path;
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lock heartbeat " + path.getName());
      t.setDaemon(true);
      return t;
    });
    heartbeat.scheduleAtFixedRate(this::beat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The lock file of {@code target}: hidden beside it, so that listings of tables and runs pass it by. */
  public static Path beside(Path target) {
    return new Path(target.getParent(), "." + target.getName() + ".lock");
  }

  /** What holds a lock now: its file's text and how long ago its heartbeat was. */
  public record Holder(String description, Duration sinceHeartbeat) {
    @Override
    public String toString() {
      return description + ", last heartbeat " + sinceHeartbeat.toSeconds() + " s ago";
    }
  }

  /** Thrown by {@link #tryAcquire} when a live process holds the lock. */
  public static final class HeldException extends IOException {
    private final transient Holder holder;

    HeldException(Path path, Holder holder) {
      super("the lock " + path + " is held by " + holder);
      this.holder = holder;
    }

    public Holder holder() {
      return holder;
    }
  }

  /** The lock, at once; a {@link HeldException} when a live process holds it. */
  public static FileLock tryAcquire(Path path, String purpose, Configuration conf) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    for (int attempt = 0; attempt < 3; attempt++) {
      if (createExclusive(fs, path, describeSelf(purpose))) {
        return new FileLock(fs, path);
      }
      Optional<Holder> current = holder(fs, path);
      if (current.isEmpty()) {
        continue; // released in between: try again
      }
      if (!isStale(current.get())) {
        throw new HeldException(path, current.get());
      }
      LOG.warn("taking over the stale lock {} ({})", path, current.get());
      fs.delete(path, false);
    }
    throw new IOException("could not take the lock " + path + ": other processes keep taking and releasing it");
  }

  /** The lock, waiting (and saying so every 30 s) while a live process holds it. */
  public static FileLock acquire(Path path, String purpose, Configuration conf) throws IOException {
    long lastSaid = System.nanoTime() - 60_000_000_000L;
    while (true) {
      try {
        return tryAcquire(path, purpose, conf);
      } catch (HeldException e) {
        if (System.nanoTime() - lastSaid > 30_000_000_000L) {
          LOG.info("waiting for the lock {}: held by {}", path, e.holder());
          lastSaid = System.nanoTime();
        }
      }
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the lock " + path, e);
      }
    }
  }

  private static boolean createExclusive(FileSystem fs, Path path, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    fs.mkdirs(path.getParent());
    if (fs instanceof LocalFileSystem local) {
      java.nio.file.Path file = local.pathToFile(path).toPath();
      try {
        Files.write(file, bytes, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      }
    }
    try (var out = fs.create(path, false)) {
      out.write(bytes);
      return true;
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      if (fs.exists(path)) {
        return false; // some file systems report an existing file with a plain IOException
      }
      throw e;
    }
  }

  static Optional<Holder> holder(FileSystem fs, Path path) throws IOException {
    try {
      long modified = fs.getFileStatus(path).getModificationTime();
      String text;
      try (var in = fs.open(path)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      }
      return Optional.of(new Holder(text, Duration.ofMillis(Math.max(0, System.currentTimeMillis() - modified))));
    } catch (java.io.FileNotFoundException e) {
      return Optional.empty();
    }
  }

  /** Stale: this host's holder whose process is gone, or any holder whose heartbeat stopped. */
  static boolean isStale(Holder holder) {
    if (holder.sinceHeartbeat().compareTo(STALE_AFTER) > 0) {
      return true;
    }
    String prefix = "host " + hostName() + " pid ";
    if (holder.description().startsWith(prefix)) {
      String pid = holder.description().substring(prefix.length()).split("[ ,]", 2)[0];
      try {
        return ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true);
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return false;
  }

  static String describeSelf(String purpose) {
    return "host " + hostName() + " pid " + ProcessHandle.current().pid() + ", since " + Instant.now() + ", " + purpose;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private void beat() {
    try {
      fs.setTimes(path, System.currentTimeMillis(), -1);
    } catch (IOException e) {
      LOG.warn("could not refresh the lock {}: {}", path, e.toString());
    }
  }

  public Path path() {
    return path;
  }

  /** Releases the lock. */
  @Override
  public void close() throws IOException {
    heartbeat.shutdownNow();
    fs.delete(path, false);
  }
}
