package org.outlierlab.model.run;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.dataprep.fs.AtomicOutput;
import org.outlierlab.model.io.ArrayCodec;

/**
 * Everything needed to continue a run exactly: the step about to run, parameters, optimiser state and the
 * trainer's own position (data order, seeds) as strings. One self-describing binary file per checkpoint.
 *
 * <p>Format 2 (written): magic, version, step, the strings, the parameters and the optimiser state as
 * {@link ArrayCodec#write named arrays}, then a CRC-32C of every byte before it, so that a truncated or damaged file
 * is refused by name. Format 1 (read only): the same up to the arrays, each written by {@code Nd4j.write}, no checksum.
 */
public record Checkpoint(long step, Map<String, INDArray> params, Map<String, INDArray> optimizerState,
    Map<String, String> extras) {
  private static final int MAGIC = 0x0F1AB0C1;
  private static final int VERSION = 2;
  private static final String PREFIX = "checkpoint-";

  public void write(OutputStream out) throws IOException {
    CRC32C crc = new CRC32C();
    DataOutputStream data = new DataOutputStream(new CheckedOutputStream(new BufferedOutputStream(out), crc));
    data.writeInt(MAGIC);
    data.writeInt(VERSION);
    data.writeLong(step);
    writeStrings(data, extras);
    ArrayCodec.write(params, data);
    ArrayCodec.write(optimizerState, data);
    data.writeLong(crc.getValue());
    data.flush();
  }

  /**
   * Reads a checkpoint of format 1 or 2.
   *
   * @throws IOException for another file, another version, or a checkpoint that is truncated or damaged
   */
  public static Checkpoint read(InputStream in) throws IOException {
    CRC32C crc = new CRC32C();
    DataInputStream data = new DataInputStream(new CheckedInputStream(new BufferedInputStream(in), crc));
    try {
      if (data.readInt() != MAGIC) {
        throw new IOException("not an Outlier Lab checkpoint");
      }
      int version = data.readInt();
      if (version != 1 && version != VERSION) {
        throw new IOException("checkpoint version " + version + " is not supported; this build reads 1 and " + VERSION);
      }
      long step = data.readLong();
      Map<String, String> extras = readStrings(data);
      if (version == 1) {
        return new Checkpoint(step, readNd4jArrays(data), readNd4jArrays(data), extras);
      }
      Map<String, INDArray> params = ArrayCodec.read(data);
      Map<String, INDArray> state = ArrayCodec.read(data);
      long computed = crc.getValue();
      long stored = data.readLong();
      if (stored != computed || data.read() != -1) {
        throw new IOException("checkpoint is damaged: its checksum does not match its contents");
      }
      return new Checkpoint(step, params, state, extras);
    } catch (EOFException e) {
      throw new IOException("checkpoint is truncated: it ends before its last array and checksum", e);
    } catch (RuntimeException e) {
      throw new IOException("checkpoint is damaged: " + e, e);
    }
  }

  /** Reads the checkpoint {@code file}; a failure names the file. */
  public static Checkpoint read(Path file, Configuration conf) throws IOException {
    try (InputStream in = file.getFileSystem(conf).open(file)) {
      return read(in);
    } catch (IOException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code checkpoint-<step>} in {@code dir} atomically ({@link AtomicOutput}): to a hidden file first, then
   * renamed, so a crash mid-write never leaves a file that looks complete.
   */
  public Path saveTo(Path dir, Configuration conf) throws IOException {
    Path target = new Path(dir, String.format("%s%012d.bin", PREFIX, step));
    try (AtomicOutput file = AtomicOutput.file(target, "w", conf)) {
      try (OutputStream out = target.getFileSystem(conf).create(file.staging(), true)) {
        write(out);
      }
      file.publish();
    }
    return target;
  }

  /** The checkpoint files in {@code dir} by step (none if it does not exist). */
  public static java.util.SortedMap<Long, Path> files(Path dir, Configuration conf) throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    java.util.SortedMap<Long, Path> files = new java.util.TreeMap<>();
    if (fs.exists(dir)) {
      for (FileStatus f : fs.listStatus(dir, p -> p.getName().matches(PREFIX + "\\d+\\.bin"))) {
        String name = f.getPath().getName();
        files.put(Long.parseLong(name.substring(PREFIX.length(), name.length() - ".bin".length())), f.getPath());
      }
    }
    return files;
  }

  /** The checkpoint with the highest step in {@code dir}, if any. */
  public static Optional<Checkpoint> latest(Path dir, Configuration conf) throws IOException {
    java.util.SortedMap<Long, Path> files = files(dir, conf);
    if (files.isEmpty()) {
      return Optional.empty();
    }
    Path last = files.get(files.lastKey());
    try {
      return Optional.of(read(last, conf));
    } catch (IOException damaged) {
      throw new IOException(damaged.getMessage() + ". " + intactBefore(files, files.lastKey(), last, conf), damaged);
    }
  }

  /**
   * What to do about the damaged {@code last}: resume from the latest intact checkpoint before it, named. Never
   * done silently: the user chooses to lose the steps after it.
   */
  private static String intactBefore(java.util.SortedMap<Long, Path> files, long lastStep, Path last,
      Configuration conf) {
    java.util.List<Long> earlier = new java.util.ArrayList<>(files.headMap(lastStep).keySet());
    java.util.Collections.reverse(earlier);
    for (long step : earlier) {
      try {
        read(files.get(step), conf);
        String damaged = shown(last);
        return "The previous checkpoint, " + shown(files.get(step)) + " (step " + step + "), is intact: move the "
            + "damaged one aside (" + ("file".equals(last.toUri().getScheme()) ? "mv " : "hadoop fs -mv ") + damaged
            + " " + damaged + ".damaged) and resume again to continue from step " + step;
      } catch (IOException e) {
        // damaged too: try the one before
      }
    }
    return earlier.isEmpty() ? "It is the run's only checkpoint: move it aside and start the run again"
        : "No earlier checkpoint is intact either: start the run again";
  }

  /** A path as a user types it: without file: for a local one. */
  private static String shown(Path p) {
    return "file".equals(p.toUri().getScheme()) ? p.toUri().getPath() : p.toString();
  }

  private static void writeStrings(DataOutputStream out, Map<String, String> map) throws IOException {
    out.writeInt(map.size());
    for (Map.Entry<String, String> e : new TreeMap<>(map).entrySet()) {
      out.writeUTF(e.getKey());
      out.writeUTF(e.getValue());
    }
  }

  private static Map<String, String> readStrings(DataInputStream in) throws IOException {
    Map<String, String> map = new LinkedHashMap<>();
    for (int n = in.readInt(); n > 0; n--) {
      map.put(in.readUTF(), in.readUTF());
    }
    return map;
  }

  /** Format 1's arrays: a count, then each one's name and {@code Nd4j.write}. */
  private static Map<String, INDArray> readNd4jArrays(DataInputStream in) throws IOException {
    Map<String, INDArray> arrays = new LinkedHashMap<>();
    for (int n = in.readInt(); n > 0; n--) {
      arrays.put(in.readUTF(), Nd4j.read(in));
    }
    return arrays;
  }
}
