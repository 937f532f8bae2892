package org.outlierlab.jobs.figures;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.dataprep.fs.AtomicOutput;
import org.outlierlab.jobs.spark.JobDescription;
import org.outlierlab.jobs.spark.SparkSessions;
import org.outlierlab.jobs.sql.WarehouseViews;

/**
 * The figures job: each figure of {@link Figure} is queried through the warehouse's views (the ones {@code bin/oflab
 * sql} defines) and drawn as a PNG with the CSV of its points beside it, both written whole ({@link AtomicOutput}).
 * A figure whose views or rows are missing is skipped, saying which job writes them.
 */
public final class FiguresJob {
  private FiguresJob() {}

  public static FiguresResult run(FiguresSettings s) throws IOException {
    List<FiguresResult.Drawn> drawn = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    try (SparkSession spark = SparkSessions.open(s.spark(), "figures")) {
      Configuration conf = spark.sparkContext().hadoopConfiguration();
      WarehouseViews views = WarehouseViews.scan(s.warehouse(), "figures.warehouse", conf);
      views.register(spark);
      for (Figure f : s.figures()) {
        List<String> missing = f.views.stream().filter(v -> !views.views().contains(v)).toList();
        if (!missing.isEmpty()) {
          skipped.add(f.fileName() + ": the warehouse has no " + String.join(", ", missing) + " yet ("
              + WarehouseViews.writerOf(missing.get(0)) + " writes it)");
          continue;
        }
        List<FigureRenderer.Point> points = new ArrayList<>();
        int leftOut = 0;
        try (JobDescription described = JobDescription.of(spark.sparkContext(), "figures: " + f.fileName())) {
          for (Row r : spark.sql(f.query(s.runs())).collectAsList()) {
            if (r.isNullAt(2) || r.isNullAt(3)) {
              continue;
            }
            double y = ((Number) r.get(3)).doubleValue();
            if (f.logY && !(y > 0)) {
              leftOut++;
              continue;
            }
            points.add(new FigureRenderer.Point(r.getString(0), r.getString(1), ((Number) r.get(2)).doubleValue(), y));
          }
        }
        if (points.isEmpty()) {
          skipped.add(f.fileName() + ": no rows" + (s.runs().isEmpty() ? "" : " for runs " + s.runs())
              + " (its statistics are not in " + String.join(", ", f.views) + ")");
          continue;
        }
        Path png = new Path(s.out(), f.fileName() + ".png");
        Path csv = new Path(s.out(), f.fileName() + ".csv");
        write(png, FigureRenderer.png(f, points), conf);
        write(csv, FigureRenderer.csv(points).getBytes(StandardCharsets.UTF_8), conf);
        drawn.add(new FiguresResult.Drawn(f.fileName(), png.toString(), csv.toString(), points.size(), leftOut));
      }
    }
    return new FiguresResult(drawn, skipped);
  }

  /** Writes {@code bytes} whole; on a local disk without Hadoop's .crc side file, which only clutters a figure folder. */
  private static void write(Path target, byte[] bytes, Configuration conf) throws IOException {
    FileSystem fs = target.getFileSystem(conf);
    FileSystem plain = fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    try (AtomicOutput file = AtomicOutput.file(target, UUID.randomUUID().toString(), conf)) {
      try (FSDataOutputStream out = plain.create(file.staging(), false)) {
        out.write(bytes);
      }
      file.publish();
    }
  }
}
