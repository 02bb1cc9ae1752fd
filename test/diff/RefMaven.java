// Reference for "maven": ComparableVersion from Debian's maven-artifact jar.
// Reads "a<TAB>b" lines on stdin, prints -1/0/1 per line.
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class RefMaven {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, "UTF-8")));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String[] f = line.split("\t", -1);
            int c = new ComparableVersion(f[0]).compareTo(new ComparableVersion(f[1]));
            out.println(c < 0 ? -1 : (c > 0 ? 1 : 0));
        }
        out.flush();
    }
}
