package org.outlierlab.dataprep;

import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Lists the input files on the driver and groups them, in path order, into partitions of about
 * {@code partition_bytes}. The grouping depends only on the inputs, so a rerun anywhere gives the same shards.
 */
public final class InputPlanner {

  /** The partitions, plus what the listing itself found wrong (listed books that do not exist). */
  public record Plan(List<PartitionPlan> partitions, PrepStats listingStats, long unlistedFiles) {
    public long files() {
      return partitions.stream().mapToLong(p -> p.files().size()).sum();
    }
  }

  private InputPlanner() {}

  public static Plan plan(DataPrepSettings s, Configuration conf) throws IOException {
    PrepStats listingStats = new PrepStats();
    List<InputFile> files = new ArrayList<>();
    long unlisted = 0;
    if (s.format() == DataPrepSettings.Format.LANGUINI && !s.trainList().isEmpty()) {
      unlisted = listBooks(s, conf, files, listingStats);
    } else {
      for (String input : s.inputs()) {
        for (FileStatus status : expand(input, conf)) {
          if (status.isDirectory()) {
            listRecursively(status.getPath(), conf, s.format(), files);
          } else {
            files.add(new InputFile(status.getPath().toString(), status.getLen(), null));
          }
        }
      }
    }
    files.sort(Comparator.comparing(InputFile::uri));
    return new Plan(group(files, s.partitionBytes()), listingStats, unlisted);
  }

  private static FileStatus[] expand(String input, Configuration conf) throws IOException {
    Path path = new Path(input);
    FileStatus[] matches = path.getFileSystem(conf).globStatus(path);
    if (matches == null || matches.length == 0) {
      throw new FileNotFoundException("data_prep.input: '" + input + "' does not exist or matches no files");
    }
    return matches;
  }

  private static void listRecursively(Path dir, Configuration conf, DataPrepSettings.Format format, List<InputFile> out)
      throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    for (FileStatus status : fs.listStatus(dir)) {
      String name = status.getPath().getName();
      if (name.startsWith(".") || name.startsWith("_")) {
        continue; // Hadoop's hidden files: .git, _SUCCESS, .crc checksums, staging directories.
      }
      if (status.isDirectory()) {
        listRecursively(status.getPath(), conf, format, out);
      } else if (format != DataPrepSettings.Format.CODEPARROT || isJsonLines(name)) {
        out.add(new InputFile(status.getPath().toString(), status.getLen(), null));
      }
    }
  }

  private static boolean isJsonLines(String name) {
    return name.endsWith(".json") || name.endsWith(".jsonl") || name.endsWith(".json.gz") || name.endsWith(".jsonl.gz");
  }

  /** Languini: the books named by the train and test lists, resolved in the (single) input directory. */
  private static long listBooks(DataPrepSettings s, Configuration conf, List<InputFile> out, PrepStats stats)
      throws IOException {
    if (s.inputs().size() != 1) {
      throw new IllegalArgumentException(
          "data_prep.input: the languini format takes one books directory, got " + s.inputs());
    }
    Path dir = expand(s.inputs().get(0), conf)[0].getPath();
    Map<String, String> splitOf = new LinkedHashMap<>();
    readList(s.trainList(), "data_prep.languini.train_list", Splits.TRAIN, conf, splitOf);
    if (!s.testList().isEmpty()) {
      readList(s.testList(), "data_prep.languini.test_list", Splits.VALIDATION, conf, splitOf);
    }
    FileSystem fs = dir.getFileSystem(conf);
    for (Map.Entry<String, String> e : splitOf.entrySet()) {
      Path book = new Path(dir, e.getKey());
      if (fs.exists(book)) {
        out.add(new InputFile(book.toString(), fs.getFileStatus(book).getLen(), e.getValue()));
      } else {
        stats.bad(org.outlierlab.dataprep.corpus.BadRecord.MISSING_FILE);
      }
    }
    long inDirectory = 0;
    for (FileStatus status : fs.listStatus(dir)) {
      if (status.isFile() && !status.getPath().getName().startsWith(".")) {
        inDirectory++;
      }
    }
    return Math.max(0, inDirectory - out.size());
  }

  private static void readList(String list, String key, String split, Configuration conf, Map<String, String> splitOf)
      throws IOException {
    Path path = new Path(list);
    FileSystem fs = path.getFileSystem(conf);
    if (!fs.exists(path)) {
      throw new FileNotFoundException(key + ": '" + list + "' does not exist");
    }
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(fs.open(path), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        String name = line.strip();
        if (name.isEmpty()) {
          continue;
        }
        String previous = splitOf.putIfAbsent(name, split);
        if (previous != null && !previous.equals(split)) {
          throw new IllegalArgumentException(key + ": book '" + name + "' is in both the train and the test list");
        }
      }
    }
  }

  /** Consecutive files into partitions of at least {@code targetBytes} (the last may be smaller). */
  static List<PartitionPlan> group(List<InputFile> files, long targetBytes) {
    List<PartitionPlan> partitions = new ArrayList<>();
    List<InputFile> current = new ArrayList<>();
    long bytes = 0;
    for (InputFile f : files) {
      current.add(f);
      bytes += f.length();
      if (bytes >= targetBytes) {
        partitions.add(new PartitionPlan(partitions.size(), current));
        current = new ArrayList<>();
        bytes = 0;
      }
    }
    if (!current.isEmpty()) {
      partitions.add(new PartitionPlan(partitions.size(), current));
    }
    return partitions;
  }
}
