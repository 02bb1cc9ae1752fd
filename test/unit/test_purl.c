/*-------------------------------------------------------------------------
 *
 * test_purl.c
 *	  TAP unit tests of the purl parser and canonical printer.
 *
 * The tables below hold cases taken from the package-url specification's
 * test suite (adapted where docs/purl.md records a different choice), the
 * purl forms found in the shared corpus, the lenient forms the
 * specification allows, and the errors.  A last group walks every JSON and
 * CSV file of the corpus (SP_CORPUS, default ../shared/corpus) and requires
 * every purl in it to parse and to round-trip.
 *
 * Output is TAP with the plan printed last; the exit status is non-zero
 * when any test fails.
 *
 *-------------------------------------------------------------------------
 */
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "purl.h"

static int	test_count = 0;
static int	fail_count = 0;

/* Print one TAP result line. */
static void
report(bool ok, const char *fmt,...)
{
	va_list		ap;

	test_count++;
	if (!ok)
		fail_count++;
	printf("%s %d - ", ok ? "ok" : "not ok", test_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Print a TAP diagnostic line. */
static void
diag(const char *fmt,...)
{
	va_list		ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Compare two optional strings, NULL equal only to NULL. */
static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *
show(const char *s)
{
	return s ? s : "(null)";
}

/* Qualifiers as "k=v&k=v" with decoded values, NULL when there are none. */
static char *
qualifier_string(const SpPurl *p, SpArena *a)
{
	size_t		len = 1;
	char	   *buf;

	if (p->nqualifiers == 0)
		return NULL;
	for (int i = 0; i < p->nqualifiers; i++)
		len += strlen(p->qualifiers[i].key) + strlen(p->qualifiers[i].value) + 2;
	buf = sp_alloc(a, len);
	for (int i = 0; i < p->nqualifiers; i++)
	{
		if (i > 0)
			strcat(buf, "&");
		strcat(buf, p->qualifiers[i].key);
		strcat(buf, "=");
		strcat(buf, p->qualifiers[i].value);
	}
	return buf;
}

/*
 * Parse s, print its canonical form, parse that again and print it again:
 * both prints must agree.  Returns the first canonical string or NULL
 * (with errbuf set) when the input does not parse.
 */
static const char *
round_trip(const char *s, SpArena *a, char *errbuf, size_t errlen,
		   bool *stable)
{
	SpPurl	   *p;
	SpPurl	   *p2;
	char	   *c1;
	char	   *c2;

	*stable = false;
	if (sp_purl_parse(s, a, &p, errbuf, errlen) < 0)
		return NULL;
	c1 = sp_purl_canonical(p, a);
	if (c1 == NULL)
		return NULL;
	if (sp_purl_parse(c1, a, &p2, errbuf, errlen) < 0)
		return c1;
	c2 = sp_purl_canonical(p2, a);
	*stable = same(c1, c2);
	return c1;
}

typedef struct ParseCase
{
	const char *desc;
	const char *input;
	const char *canonical;
	const char *type;
	const char *ns;
	const char *name;
	const char *version;
	const char *quals;			/* decoded, "k=v&k=v", sorted */
	const char *subpath;
} ParseCase;

static const ParseCase parse_cases[] = {
	/* From the specification's test suite. */
	{"spec: valid maven purl",
		"pkg:maven/org.apache.commons/io@1.3.4",
		"pkg:maven/org.apache.commons/io@1.3.4",
	"maven", "org.apache.commons", "io", "1.3.4", NULL, NULL},
	{"spec: maven without version",
		"pkg:maven/org.apache.commons/io",
		"pkg:maven/org.apache.commons/io",
	"maven", "org.apache.commons", "io", NULL, NULL, NULL},
	{"spec: go with subpath, upper-case type, slashes around subpath",
		"pkg:GOLANG/google.golang.org/genproto#/googleapis/api/annotations/",
		"pkg:golang/google.golang.org/genproto#googleapis/api/annotations",
	"golang", "google.golang.org", "genproto", NULL, NULL,
	"googleapis/api/annotations"},
	{"spec: go with version and subpath",
		"pkg:GOLANG/google.golang.org/genproto@abcdedf#/googleapis/api/annotations/",
		"pkg:golang/google.golang.org/genproto@abcdedf#googleapis/api/annotations",
	"golang", "google.golang.org", "genproto", "abcdedf", NULL,
	"googleapis/api/annotations"},
	{"spec: bitbucket namespace and name lower-cased",
		"pkg:bitbucket/birKenfeld/pyGments-main@244fd47e07d1014f0aed9c",
		"pkg:bitbucket/birkenfeld/pygments-main@244fd47e07d1014f0aed9c",
	"bitbucket", "birkenfeld", "pygments-main", "244fd47e07d1014f0aed9c",
	NULL, NULL},
	{"spec: github namespace and name lower-cased",
		"pkg:github/Package-url/purl-Spec@244fd47e07d1004f0aed9c",
		"pkg:github/package-url/purl-spec@244fd47e07d1004f0aed9c",
	"github", "package-url", "purl-spec", "244fd47e07d1004f0aed9c", NULL, NULL},
	{"spec: debian qualifiers",
		"pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
		"pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
	"deb", "debian", "curl", "7.50.3-1", "arch=i386&distro=jessie", NULL},
	{"spec: docker digest version keeps its colon",
		"pkg:docker/customer/dockerimage@sha256:244fd47e07d1004f0aed9c?repository_url=gcr.io",
		"pkg:docker/customer/dockerimage@sha256:244fd47e07d1004f0aed9c?repository_url=gcr.io",
		"docker", "customer", "dockerimage", "sha256:244fd47e07d1004f0aed9c",
	"repository_url=gcr.io", NULL},
	{"spec: gem qualifier key lower-cased",
		"pkg:gem/jruby-launcher@1.1.2?Platform=java",
		"pkg:gem/jruby-launcher@1.1.2?platform=java",
	"gem", NULL, "jruby-launcher", "1.1.2", "platform=java", NULL},
	{"spec: maven qualifiers, mixed-case type and key",
		"pkg:Maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repositorY_url=repo.spring.io/release",
		"pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repository_url=repo.spring.io/release",
		"maven", "org.apache.xmlgraphics", "batik-anim", "1.9.1",
	"classifier=sources&repository_url=repo.spring.io/release", NULL},
	{"spec: maven qualifiers are sorted",
		"pkg:Maven/org.apache.xmlgraphics/batik-anim@1.9.1?type=pom&repositorY_url=repo.spring.io/release",
		"pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?repository_url=repo.spring.io/release&type=pom",
		"maven", "org.apache.xmlgraphics", "batik-anim", "1.9.1",
	"repository_url=repo.spring.io/release&type=pom", NULL},
	{"spec: maven repository_url keeps its scheme",
		"pkg:Maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repositorY_url=https://repo.spring.io/release",
		"pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repository_url=https://repo.spring.io/release",
		"maven", "org.apache.xmlgraphics", "batik-anim", "1.9.1",
	"classifier=sources&repository_url=https://repo.spring.io/release", NULL},
	{"spec: maven type qualifier",
		"pkg:Maven/net.sf.jacob-project/jacob@1.14.3?classifier=x86&type=dll",
		"pkg:maven/net.sf.jacob-project/jacob@1.14.3?classifier=x86&type=dll",
		"maven", "net.sf.jacob-project", "jacob", "1.14.3",
	"classifier=x86&type=dll", NULL},
	{"spec: npm scope",
		"pkg:npm/%40angular/animation@12.3.1",
		"pkg:npm/%40angular/animation@12.3.1",
	"npm", "@angular", "animation", "12.3.1", NULL, NULL},
	{"spec: nuget names keep their case",
		"pkg:Nuget/EnterpriseLibrary.Common@6.0.1304",
		"pkg:nuget/EnterpriseLibrary.Common@6.0.1304",
	"nuget", NULL, "EnterpriseLibrary.Common", "6.0.1304", NULL, NULL},
	{"spec: pypi name lower-cased, underscore to dash",
		"pkg:PYPI/Django_package@1.11.1.dev1",
		"pkg:pypi/django-package@1.11.1.dev1",
	"pypi", NULL, "django-package", "1.11.1.dev1", NULL, NULL},
	{"spec: rpm qualifier keys lower-cased",
		"pkg:Rpm/fedora/curl@7.50.3-1.fc25?Arch=i386&Distro=fedora-25",
		"pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25",
	"rpm", "fedora", "curl", "7.50.3-1.fc25", "arch=i386&distro=fedora-25", NULL},
	{"spec: one slash after the scheme",
		"pkg:/maven/org.apache.commons/io",
		"pkg:maven/org.apache.commons/io",
	"maven", "org.apache.commons", "io", NULL, NULL, NULL},
	{"spec: two slashes after the scheme",
		"pkg://maven/org.apache.commons/io",
		"pkg:maven/org.apache.commons/io",
	"maven", "org.apache.commons", "io", NULL, NULL, NULL},
	{"spec: three slashes after the scheme",
		"pkg:///maven/org.apache.commons/io",
		"pkg:maven/org.apache.commons/io",
	"maven", "org.apache.commons", "io", NULL, NULL, NULL},
	{"spec: maven namespace and name keep their case",
		"pkg:maven/HTTPClient/HTTPClient@0.3-3",
		"pkg:maven/HTTPClient/HTTPClient@0.3-3",
	"maven", "HTTPClient", "HTTPClient", "0.3-3", NULL, NULL},
	{"spec: space in version and qualifier value",
		"pkg:maven/mygroup/myartifact@1.0.0%20Final?mykey=my%20value",
		"pkg:maven/mygroup/myartifact@1.0.0%20Final?mykey=my%20value",
	"maven", "mygroup", "myartifact", "1.0.0 Final", "mykey=my value", NULL},
	{"spec: conan without namespace",
		"pkg:conan/cctz@2.3",
		"pkg:conan/cctz@2.3",
	"conan", NULL, "cctz", "2.3", NULL, NULL},
	{"spec: conan with namespace and channel",
		"pkg:conan/bincrafters/cctz@2.3?channel=stable",
		"pkg:conan/bincrafters/cctz@2.3?channel=stable",
	"conan", "bincrafters", "cctz", "2.3", "channel=stable", NULL},
	{"spec: conda qualifiers",
		"pkg:conda/absl-py@0.4.1?build=py36h06a4308_0&channel=main&subdir=linux-64&type=tar.bz2",
		"pkg:conda/absl-py@0.4.1?build=py36h06a4308_0&channel=main&subdir=linux-64&type=tar.bz2",
		"conda", NULL, "absl-py", "0.4.1",
	"build=py36h06a4308_0&channel=main&subdir=linux-64&type=tar.bz2", NULL},
	{"spec: cran",
		"pkg:cran/A3@0.9.1",
		"pkg:cran/A3@0.9.1",
	"cran", NULL, "A3", "0.9.1", NULL, NULL},
	{"spec: swift",
		"pkg:swift/github.com/Alamofire/Alamofire@5.4.3",
		"pkg:swift/github.com/Alamofire/Alamofire@5.4.3",
	"swift", "github.com/Alamofire", "Alamofire", "5.4.3", NULL, NULL},
	{"spec: hackage",
		"pkg:hackage/AC-HalfInteger@1.2.1",
		"pkg:hackage/AC-HalfInteger@1.2.1",
	"hackage", NULL, "AC-HalfInteger", "1.2.1", NULL, NULL},
	{"spec: fully escaped vcs_url is printed with plain ':' and '/'",
		"pkg:npm/packageurl-js@0.0.7?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fpackage-url%2Fpackageurl-js.git",
		"pkg:npm/packageurl-js@0.0.7?vcs_url=git%2Bhttps://github.com/package-url/packageurl-js.git",
		"npm", NULL, "packageurl-js", "0.0.7",
	"vcs_url=git+https://github.com/package-url/packageurl-js.git", NULL},
	{"spec: checksum list keeps its escaped comma",
		"pkg:generic/bitwarderl?checksum=sha1:ad9503c3e994a4f%2Csha256:41bf9088b3a1e6c1ef1d",
		"pkg:generic/bitwarderl?checksum=sha1:ad9503c3e994a4f%2Csha256:41bf9088b3a1e6c1ef1d",
		"generic", NULL, "bitwarderl", NULL,
	"checksum=sha1:ad9503c3e994a4f,sha256:41bf9088b3a1e6c1ef1d", NULL},
	{"spec: npm vcs_url with escaped @",
		"pkg:npm/mypackage@12.4.5?vcs_url=git://host.com/path/to/repo.git%404345abcd34343",
		"pkg:npm/mypackage@12.4.5?vcs_url=git://host.com/path/to/repo.git%404345abcd34343",
		"npm", NULL, "mypackage", "12.4.5",
	"vcs_url=git://host.com/path/to/repo.git@4345abcd34343", NULL},
	{"spec: npm scope given with a plain @",
		"pkg:npm/@babel/core#/googleapis/api/annotations/",
		"pkg:npm/%40babel/core#googleapis/api/annotations",
	"npm", "@babel", "core", NULL, NULL, "googleapis/api/annotations"},
	{"spec: npm name lower-cased",
		"pkg:npm/LoDash@4.17.21",
		"pkg:npm/lodash@4.17.21",
	"npm", NULL, "lodash", "4.17.21", NULL, NULL},
	{"spec: npm scope and name lower-cased",
		"pkg:npm/%40MyScope/MyPackage@1.0.0",
		"pkg:npm/%40myscope/mypackage@1.0.0",
	"npm", "@myscope", "mypackage", "1.0.0", NULL, NULL},
	{"spec: npm subpath with an emoji",
		"pkg:npm/foo@1.0.0#src/%F0%9F%98%83/file.js",
		"pkg:npm/foo@1.0.0#src/%F0%9F%98%83/file.js",
	"npm", NULL, "foo", "1.0.0", NULL, "src/\xF0\x9F\x98\x83/file.js"},
	{"spec: qualifier value with an emoji",
		"pkg:npm/foo@1.0.0?vcs_url=https://a.com/b/c%F0%9F%98%83d.git",
		"pkg:npm/foo@1.0.0?vcs_url=https://a.com/b/c%F0%9F%98%83d.git",
		"npm", NULL, "foo", "1.0.0",
	"vcs_url=https://a.com/b/c\xF0\x9F\x98\x83" "d.git", NULL},
	{"spec: '+' in a version is escaped (docs/purl.md)",
		"pkg:npm/foobar@1.2.3-alpha.1+build.456",
		"pkg:npm/foobar@1.2.3-alpha.1%2Bbuild.456",
	"npm", NULL, "foobar", "1.2.3-alpha.1+build.456", NULL, NULL},
	{"spec: deb epoch in version and escaped plus",
		"pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64",
		"pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64",
	"deb", "debian", "attr", "1:2.4.47-2+b1", "arch=amd64", NULL},
	{"spec: cpan author upper-cased",
		"pkg:cpan/drolsky/DateTime@1.55",
		"pkg:cpan/DROLSKY/DateTime@1.55",
	"cpan", "DROLSKY", "DateTime", "1.55", NULL, NULL},
	{"spec: cpan module name keeps its colons",
		"pkg:cpan/Perl::Version@1.013",
		"pkg:cpan/Perl::Version@1.013",
	"cpan", NULL, "Perl::Version", "1.013", NULL, NULL},
	{"spec: huggingface revision lower-cased",
		"pkg:huggingface/microsoft/deberta-v3-base@559062AD13d311b87b2c455e67dcd5f1c8f65111",
		"pkg:huggingface/microsoft/deberta-v3-base@559062ad13d311b87b2c455e67dcd5f1c8f65111",
		"huggingface", "microsoft", "deberta-v3-base",
	"559062ad13d311b87b2c455e67dcd5f1c8f65111", NULL, NULL},
	{"spec: pub name lower-cased with underscores",
		"pkg:pub/Flutter-Test@0.0.0",
		"pkg:pub/flutter_test@0.0.0",
	"pub", NULL, "flutter_test", "0.0.0", NULL, NULL},
	{"spec: oci name lower-cased, digest unescaped, qualifiers sorted",
		"pkg:oci/Debian@sha256%3A244fd47e07d10?repository_url=docker.io/library/debian&arch=amd64&tag=latest",
		"pkg:oci/debian@sha256:244fd47e07d10?arch=amd64&repository_url=docker.io/library/debian&tag=latest",
		"oci", NULL, "debian", "sha256:244fd47e07d10",
	"arch=amd64&repository_url=docker.io/library/debian&tag=latest", NULL},
	{"spec: mlflow name lower-cased on Databricks",
		"pkg:mlflow/TrafficSigns@10?repository_url=https://adb-5245952564735461.0.azuredatabricks.net/api/2.0/mlflow",
		"pkg:mlflow/trafficsigns@10?repository_url=https://adb-5245952564735461.0.azuredatabricks.net/api/2.0/mlflow",
		"mlflow", NULL, "trafficsigns", "10",
	"repository_url=https://adb-5245952564735461.0.azuredatabricks.net/api/2.0/mlflow", NULL},
	{"spec: mlflow name kept on Azure ML",
		"pkg:mlflow/CreditFraud@3?repository_url=https://westus2.api.azureml.ms/mlflow/v1.0",
		"pkg:mlflow/CreditFraud@3?repository_url=https://westus2.api.azureml.ms/mlflow/v1.0",
		"mlflow", NULL, "CreditFraud", "3",
	"repository_url=https://westus2.api.azureml.ms/mlflow/v1.0", NULL},
	{"spec: hex and composer lower-cased",
		"pkg:hex/Acme/Foo@2.3.0",
		"pkg:hex/acme/foo@2.3.0",
	"hex", "acme", "foo", "2.3.0", NULL, NULL},
	{"spec: composer vendor and name lower-cased",
		"pkg:composer/Laravel/Laravel@5.5.0",
		"pkg:composer/laravel/laravel@5.5.0",
	"composer", "laravel", "laravel", "5.5.0", NULL, NULL},
	{"spec: swid '+' in namespace and name is escaped",
		"pkg:swid/Acme/example.com/Enterprise+Server@1.0.0?tag_id=75b8c285-fa7b-485b-b199-4745e3004d0d",
		"pkg:swid/Acme/example.com/Enterprise%2BServer@1.0.0?tag_id=75b8c285-fa7b-485b-b199-4745e3004d0d",
		"swid", "Acme/example.com", "Enterprise+Server", "1.0.0",
	"tag_id=75b8c285-fa7b-485b-b199-4745e3004d0d", NULL},
	{"spec: cocoapods subspec subpath with '+'",
		"pkg:cocoapods/GoogleUtilities@7.5.2#NSData+zlib",
		"pkg:cocoapods/GoogleUtilities@7.5.2#NSData%2Bzlib",
	"cocoapods", NULL, "GoogleUtilities", "7.5.2", NULL, "NSData+zlib"},
	{"spec: alpm version with epoch",
		"pkg:alpm/Arch/Containers-Common@1:0.47.4-4?arch=x86_64",
		"pkg:alpm/arch/containers-common@1:0.47.4-4?arch=x86_64",
	"alpm", "arch", "containers-common", "1:0.47.4-4", "arch=x86_64", NULL},

	/* Forms found in the shared corpus. */
	{"corpus: npm scope escaped",
		"pkg:npm/%40cyclonedx/cdxgen@12.8.4",
		"pkg:npm/%40cyclonedx/cdxgen@12.8.4",
	"npm", "@cyclonedx", "cdxgen", "12.8.4", NULL, NULL},
	{"corpus: npm scope plain",
		"pkg:npm/@cyclonedx/cdxgen@12.8.4",
		"pkg:npm/%40cyclonedx/cdxgen@12.8.4",
	"npm", "@cyclonedx", "cdxgen", "12.8.4", NULL, NULL},
	{"corpus: golang pseudo-version, qualifiers sorted, case kept",
		"pkg:golang/github.com/Azure/go-ansiterm@v0.0.0-20170929234023-d6e3b3328b78?type=module&goos=linux&goarch=arm64",
		"pkg:golang/github.com/Azure/go-ansiterm@v0.0.0-20170929234023-d6e3b3328b78?goarch=arm64&goos=linux&type=module",
		"golang", "github.com/Azure", "go-ansiterm",
		"v0.0.0-20170929234023-d6e3b3328b78",
	"goarch=arm64&goos=linux&type=module", NULL},
	{"corpus: golang +incompatible unescaped",
		"pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0+incompatible",
		"pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0%2Bincompatible",
		"golang", "github.com/Azure", "azure-sdk-for-go",
	"v68.0.0+incompatible", NULL, NULL},
	{"corpus: golang +incompatible escaped",
		"pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0%2Bincompatible",
		"pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0%2Bincompatible",
		"golang", "github.com/Azure", "azure-sdk-for-go",
	"v68.0.0+incompatible", NULL, NULL},
	{"corpus: golang major-version suffix",
		"pkg:golang/github.com/blang/semver/v4@v4.0.0?type=module",
		"pkg:golang/github.com/blang/semver/v4@v4.0.0?type=module",
	"golang", "github.com/blang/semver", "v4", "v4.0.0", "type=module", NULL},
	{"corpus: golang stdlib without namespace",
		"pkg:golang/stdlib",
		"pkg:golang/stdlib",
	"golang", NULL, "stdlib", NULL, NULL, NULL},
	{"corpus: maven ?type=jar",
		"pkg:maven/ch.qos.logback/logback-classic@1.2.11?type=jar",
		"pkg:maven/ch.qos.logback/logback-classic@1.2.11?type=jar",
	"maven", "ch.qos.logback", "logback-classic", "1.2.11", "type=jar", NULL},
	{"corpus: maven odd version",
		"pkg:maven/com.google.guava/listenablefuture@9999.0-empty-to-avoid-conflict-with-guava?type=jar",
		"pkg:maven/com.google.guava/listenablefuture@9999.0-empty-to-avoid-conflict-with-guava?type=jar",
		"maven", "com.google.guava", "listenablefuture",
	"9999.0-empty-to-avoid-conflict-with-guava", "type=jar", NULL},
	{"corpus: deb arch, distro and epoch",
		"pkg:deb/debian/bsdutils@2.33.1-0.1?arch=amd64&distro=debian-10.2&epoch=1",
		"pkg:deb/debian/bsdutils@2.33.1-0.1?arch=amd64&distro=debian-10.2&epoch=1",
		"deb", "debian", "bsdutils", "2.33.1-0.1",
	"arch=amd64&distro=debian-10.2&epoch=1", NULL},
	{"corpus: deb version with escaped plus signs",
		"pkg:deb/debian/findutils@4.6.0%2Bgit%2B20190209-2?arch=amd64&distro=debian-10.2",
		"pkg:deb/debian/findutils@4.6.0%2Bgit%2B20190209-2?arch=amd64&distro=debian-10.2",
		"deb", "debian", "findutils", "4.6.0+git+20190209-2",
	"arch=amd64&distro=debian-10.2", NULL},
	{"corpus: legacy alpine type kept, upstream qualifier",
		"pkg:alpine/busybox@1.35.0-r17?arch=x86_64&upstream=busybox&distro=alpine-3.16.2",
		"pkg:alpine/busybox@1.35.0-r17?arch=x86_64&distro=alpine-3.16.2&upstream=busybox",
		"alpine", NULL, "busybox", "1.35.0-r17",
	"arch=x86_64&distro=alpine-3.16.2&upstream=busybox", NULL},
	{"corpus: alpine package-id qualifier",
		"pkg:alpine/ssl_client@1.35.0-r17?arch=x86_64&upstream=busybox&distro=alpine-3.16.2&package-id=7aec2be3ffd82c3c",
		"pkg:alpine/ssl_client@1.35.0-r17?arch=x86_64&distro=alpine-3.16.2&package-id=7aec2be3ffd82c3c&upstream=busybox",
		"alpine", NULL, "ssl_client", "1.35.0-r17",
	"arch=x86_64&distro=alpine-3.16.2&package-id=7aec2be3ffd82c3c&upstream=busybox", NULL},
	{"corpus: apk source package",
		"pkg:apk/alpine/openssl?arch=source",
		"pkg:apk/alpine/openssl?arch=source",
	"apk", "alpine", "openssl", NULL, "arch=source", NULL},
	{"corpus: generic",
		"pkg:generic/component1@1.3.4",
		"pkg:generic/component1@1.3.4",
	"generic", NULL, "component1", "1.3.4", NULL, NULL},
	{"corpus: oci digest with escaped colon",
		"pkg:oci/nginx@sha256%3A13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0",
		"pkg:oci/nginx@sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0",
		"oci", NULL, "nginx",
	"sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0", NULL, NULL},
	{"corpus: oci repository_url with escaped slashes",
		"pkg:oci/trivy?repository_url=index.docker.io%2Faquasec%2Ftrivy",
		"pkg:oci/trivy?repository_url=index.docker.io/aquasec/trivy",
	"oci", NULL, "trivy", NULL, "repository_url=index.docker.io/aquasec/trivy", NULL},
	{"corpus: rpm",
		"pkg:rpm/redhat/cri-o@1.23.5-15.rhaos4.10.git0bbb0d9.el8?arch=src",
		"pkg:rpm/redhat/cri-o@1.23.5-15.rhaos4.10.git0bbb0d9.el8?arch=src",
		"rpm", "redhat", "cri-o", "1.23.5-15.rhaos4.10.git0bbb0d9.el8",
	"arch=src", NULL},
	{"corpus: gem with a dot in the name",
		"pkg:gem/http_parser.rb@0.6.0",
		"pkg:gem/http_parser.rb@0.6.0",
	"gem", NULL, "http_parser.rb", "0.6.0", NULL, NULL},

	/* Lenient forms. */
	{"lenient: upper-case scheme",
		"PKG:NPM/foo@1.0",
		"pkg:npm/foo@1.0",
	"npm", NULL, "foo", "1.0", NULL, NULL},
	{"lenient: slashes around and inside the namespace",
		"pkg:generic//a//b/name/",
		"pkg:generic/a/b/name",
	"generic", "a/b", "name", NULL, NULL, NULL},
	{"lenient: '.' and '..' subpath segments dropped",
		"pkg:golang/x.org/y#./a/../b/./c/",
		"pkg:golang/x.org/y#a/b/c",
	"golang", "x.org", "y", NULL, NULL, "a/b/c"},
	{"lenient: escaped dot segments dropped too",
		"pkg:generic/a#%2E/b/%2E%2E",
		"pkg:generic/a#b",
	"generic", NULL, "a", NULL, NULL, "b"},
	{"lenient: subpath of dots only is no subpath",
		"pkg:generic/a#./..//",
		"pkg:generic/a",
	"generic", NULL, "a", NULL, NULL, NULL},
	{"lenient: empty qualifier values dropped",
		"pkg:generic/a?x=&b=1",
		"pkg:generic/a?b=1",
	"generic", NULL, "a", NULL, "b=1", NULL},
	{"lenient: empty '?' and '#'",
		"pkg:generic/a?#",
		"pkg:generic/a",
	"generic", NULL, "a", NULL, NULL, NULL},
	{"lenient: empty pairs between '&'",
		"pkg:generic/a?b=1&&c=2&",
		"pkg:generic/a?b=1&c=2",
	"generic", NULL, "a", NULL, "b=1&c=2", NULL},
	{"lenient: raw space escaped on output",
		"pkg:generic/a b@1 0",
		"pkg:generic/a%20b@1%200",
	"generic", NULL, "a b", "1 0", NULL, NULL},
	{"lenient: raw UTF-8 escaped on output",
		"pkg:generic/caf\xC3\xA9@1",
		"pkg:generic/caf%C3%A9@1",
	"generic", NULL, "caf\xC3\xA9", "1", NULL, NULL},
	{"lenient: lower-case hex escapes, escaped slash in a name",
		"pkg:generic/a%2fb@1",
		"pkg:generic/a%2Fb@1",
	"generic", NULL, "a/b", "1", NULL, NULL},
	{"lenient: needless escapes are undone",
		"pkg:generic/%61%62c@%31.0",
		"pkg:generic/abc@1.0",
	"generic", NULL, "abc", "1.0", NULL, NULL},
	{"lenient: '@' inside a version",
		"pkg:generic/name@1@2",
		"pkg:generic/name@1%402",
	"generic", NULL, "name", "1@2", NULL, NULL},
	{"lenient: '=' inside a qualifier value",
		"pkg:generic/a?k=v=w",
		"pkg:generic/a?k=v%3Dw",
	"generic", NULL, "a", NULL, "k=v=w", NULL},
	{"lenient: '?' inside a qualifier value",
		"pkg:generic/a?download_url=https://h/f?x=1",
		"pkg:generic/a?download_url=https://h/f%3Fx%3D1",
	"generic", NULL, "a", NULL, "download_url=https://h/f?x=1", NULL},
	{"lenient: '#' before the last one belongs to the qualifiers",
		"pkg:generic/a?k=x#y#sub",
		"pkg:generic/a?k=x%23y#sub",
	"generic", NULL, "a", NULL, "k=x#y", "sub"},
	{"lenient: type with '.', '+' and '-'",
		"pkg:A.b+C-d/x",
		"pkg:a.b+c-d/x",
	"a.b+c-d", NULL, "x", NULL, NULL, NULL},
	{"lenient: pypi escaped underscore",
		"pkg:pypi/typing%5Fextensions@4.0",
		"pkg:pypi/typing-extensions@4.0",
	"pypi", NULL, "typing-extensions", "4.0", NULL, NULL},
};

typedef struct ErrorCase
{
	const char *desc;
	const char *input;
	const char *message;		/* expected substring */
	long		offset;			/* expected offset, -1 for none */
} ErrorCase;

static const ErrorCase error_cases[] = {
	{"spec: a scheme is required", "EnterpriseLibrary.Common@6.0.1304",
	"must start with \"pkg:\"", 0},
	{"spec: a type is required", "pkg:EnterpriseLibrary.Common@6.0.1304",
	"invalid character \"@\" in type", 28},
	{"spec: a name is required", "pkg:maven/@1.3.4", "name is missing", 10},
	{"spec: invalid character in type", "pkg:n&g?inx/nginx@0.8.9",
	"invalid character \"&\" in type", 5},
	{"spec: type may not start with a digit", "pkg:3nginx/nginx@0.8.9",
	"type must start with a letter", 4},
	{"spec: colon in type", "pkg:nginx:a/nginx@0.8.9",
	"invalid character \":\" in type", 9},
	{"spec: percent-encoded qualifier key",
		"pkg:npm/myartifact@1.0.0?in%20production=true",
	"must not be percent-encoded", 27},
	{"spec: encoded colon after the scheme",
	"pkg%3Amaven/org.apache.commons/io", "must start with \"pkg:\"", 0},
	{"spec: name and version required", "pkg:hackage", "name is missing", 11},
	{"spec: cran requires a version", "pkg:cran/A3",
	"type \"cran\" requires a version", 11},
	{"spec: swift requires a namespace", "pkg:swift/Alamofire@5.4.3",
	"type \"swift\" requires a namespace", 9},
	{"spec: swift requires a name", "pkg:swift/github.com/Alamofire/@5.4.3",
	"name is missing", 31},
	{"spec: swift requires a version",
		"pkg:swift/github.com/Alamofire/Alamofire",
	"type \"swift\" requires a version", 40},
	{"spec: npm with an empty version", "pkg:npm/foobar@",
	"version is empty", 14},
	{"spec: type only", "pkg:npm/", "name is missing", 7},
	{"maven requires a namespace", "pkg:maven/io@1.0",
	"type \"maven\" requires a namespace", 9},
	{"empty input", "", "purl is empty", 0},
	{"scheme only", "pkg:", "type is missing", 4},
	{"slashes only", "pkg:///", "type is missing", 7},
	{"type without a path", "pkg:GENERIC", "name is missing", 11},
	{"leading space before the scheme", " pkg:generic/a",
	"must start with \"pkg:\"", 0},
	{"bad hex in escape", "pkg:generic/a%zz", "invalid percent-escape", 13},
	{"short escape", "pkg:generic/a%4", "invalid percent-escape", 13},
	{"lone percent", "pkg:generic/a%", "invalid percent-escape", 13},
	{"escape cut by '@'", "pkg:generic/a%4@1", "invalid percent-escape", 13},
	{"escaped NUL", "pkg:generic/a%00b", "decodes to a NUL byte", 13},
	{"escapes that are not UTF-8", "pkg:generic/a%C3%28",
	"do not decode to valid UTF-8", 13},
	{"truncated UTF-8 escape", "pkg:generic/x@1%F0%9F%98",
	"do not decode to valid UTF-8", 15},
	{"overlong UTF-8 escape", "pkg:generic/a%C0%AF",
	"do not decode to valid UTF-8", 13},
	{"surrogate in escapes", "pkg:generic/a%ED%A0%80",
	"do not decode to valid UTF-8", 13},
	{"raw invalid UTF-8", "pkg:generic/a\xFF", "invalid UTF-8", 13},
	{"raw control byte", "pkg:generic/a\x01", "control byte 0x01", 13},
	{"raw tab", "pkg:generic/a\tb", "control byte 0x09", 13},
	{"qualifier without '='", "pkg:generic/a?b", "has no \"=\"", 14},
	{"empty qualifier key", "pkg:generic/a?=b", "qualifier key is empty", 14},
	{"qualifier key starts with a digit", "pkg:generic/a?1b=c",
	"must start with a letter", 14},
	{"space in qualifier key", "pkg:generic/a?b c=d",
	"invalid byte 0x20 in qualifier key", 15},
	{"duplicate qualifier key (case-folded)", "pkg:generic/a?b=1&B=2",
	"duplicate qualifier key \"b\"", 18},
	{"encoded slash in a namespace segment", "pkg:generic/ns%2Fx/a",
	"namespace segment contains an encoded \"/\"", 12},
	{"encoded slash in a subpath segment", "pkg:generic/a#x%2Fy",
	"subpath segment contains an encoded \"/\"", 14},
	{"bad escape in subpath", "pkg:generic/a#x/%G1", "invalid percent-escape", 16},
	{"bad escape in qualifier value", "pkg:generic/a?k=%", "invalid percent-escape", 16},
};

/* Check one parse case, then that its canonical form is stable. */
static void
run_parse_case(const ParseCase *c)
{
	SpArena    *a = sp_arena_create();
	SpPurl	   *p;
	char		err[256];
	bool		ok = true;

	if (sp_purl_parse(c->input, a, &p, err, sizeof(err)) < 0)
	{
		report(false, "%s", c->desc);
		diag("input %s: %s", c->input, err);
		sp_arena_destroy(a);
		return;
	}

	{
		const char *canon = sp_purl_canonical(p, a);
		const char *quals = qualifier_string(p, a);
		SpPurl	   *p2;
		const char *canon2 = NULL;

		if (sp_purl_parse(canon, a, &p2, err, sizeof(err)) == 0)
			canon2 = sp_purl_canonical(p2, a);

#define CHECK(field, got, want) \
		if (!same(got, want)) \
		{ \
			ok = false; \
			diag("%s: got %s, want %s", field, show(got), show(want)); \
		}
		CHECK("canonical", canon, c->canonical);
		CHECK("type", p->type, c->type);
		CHECK("namespace", p->namespace, c->ns);
		CHECK("name", p->name, c->name);
		CHECK("version", p->version, c->version);
		CHECK("qualifiers", quals, c->quals);
		CHECK("subpath", p->subpath, c->subpath);
		CHECK("re-parsed canonical", canon2, canon);
#undef CHECK
	}
	report(ok, "%s", c->desc);
	sp_arena_destroy(a);
}

/* Check that an invalid purl fails with the expected message and offset. */
static void
run_error_case(const ErrorCase *c)
{
	SpArena    *a = sp_arena_create();
	SpPurl	   *p = (SpPurl *) &p;
	char		err[256];
	char		where[64];
	int			rc = sp_purl_parse(c->input, a, &p, err, sizeof(err));
	bool		ok = (rc == -1 && p == NULL && strstr(err, c->message) != NULL);

	if (c->offset >= 0)
	{
		size_t		wl = strlen(err);

		snprintf(where, sizeof(where), " at offset %ld", c->offset);
		ok = ok && wl >= strlen(where) &&
			strcmp(err + wl - strlen(where), where) == 0;
	}
	report(ok, "error: %s", c->desc);
	if (!ok)
		diag("input \"%s\": rc %d, message \"%s\", want \"%s\" at %ld",
			 c->input, rc, rc < 0 ? err : "", c->message, c->offset);
	sp_arena_destroy(a);
}

/* Qualifier look-up and the base (matching) forms. */
static void
test_lookup_and_base(void)
{
	SpArena    *a = sp_arena_create();
	SpPurl	   *p;
	char		err[256];
	int			rc;

	rc = sp_purl_parse("pkg:deb/Debian/Libc6@2.28-10%2Bdeb10u1?Distro=debian-10.2&arch=amd64&epoch=1#usr/lib",
					   a, &p, err, sizeof(err));
	report(rc == 0 && same(sp_purl_qualifier(p, "distro"), "debian-10.2") &&
		   same(sp_purl_qualifier(p, "epoch"), "1") &&
		   same(sp_purl_qualifier(p, "arch"), "amd64"),
		   "qualifier look-up finds each key");
	report(rc == 0 && sp_purl_qualifier(p, "upstream") == NULL &&
		   sp_purl_qualifier(p, "Distro") == NULL &&
		   sp_purl_qualifier(p, "a") == NULL &&
		   sp_purl_qualifier(p, "zzz") == NULL,
		   "qualifier look-up misses absent and upper-case keys");
	report(rc == 0 && same(sp_purl_base(p, true, a),
						   "pkg:deb/debian/libc6@2.28-10%2Bdeb10u1"),
		   "base with version drops qualifiers and subpath");
	report(rc == 0 && same(sp_purl_base(p, false, a), "pkg:deb/debian/libc6"),
		   "base without version");

	rc = sp_purl_parse("pkg:generic/a", a, &p, err, sizeof(err));
	report(rc == 0 && p->nqualifiers == 0 && p->qualifiers == NULL &&
		   sp_purl_qualifier(p, "arch") == NULL &&
		   same(sp_purl_base(p, true, a), "pkg:generic/a"),
		   "purl without qualifiers or version");

	rc = sp_purl_parse("pkg:npm/@Types/Node@20.1.0?k=v", a, &p, err, sizeof(err));
	report(rc == 0 && same(sp_purl_base(p, false, a), "pkg:npm/%40types/node"),
		   "base of a scoped npm package escapes the scope");

	report(sp_purl_qualifier(NULL, "a") == NULL, "qualifier look-up on NULL");
	sp_arena_destroy(a);
}

/* Error-buffer edge cases: tiny buffer, no buffer, NULL input. */
static void
test_error_buffer(void)
{
	SpArena    *a = sp_arena_create();
	SpPurl	   *p;
	char		small[8];
	int			rc;

	memset(small, 'x', sizeof(small));
	rc = sp_purl_parse("nope", a, &p, small, sizeof(small));
	report(rc == -1 && memchr(small, '\0', sizeof(small)) != NULL &&
		   strncmp(small, "purl mu", 7) == 0,
		   "short error buffer is truncated and terminated");

	rc = sp_purl_parse("nope", a, &p, NULL, 0);
	report(rc == -1, "no error buffer is accepted");

	rc = sp_purl_parse(NULL, a, &p, small, sizeof(small));
	report(rc == -1 && small[0] != '\0', "NULL input is refused");
	sp_arena_destroy(a);
}

/* Over-long input is refused; input at the limit is accepted. */
static void
test_length_limit(void)
{
	SpArena    *a = sp_arena_create();
	char	   *buf = malloc(SP_PURL_MAX_LEN + 2);
	SpPurl	   *p;
	char		err[256];
	int			rc;

	memcpy(buf, "pkg:generic/", 12);
	memset(buf + 12, 'a', SP_PURL_MAX_LEN - 12);
	buf[SP_PURL_MAX_LEN] = '\0';
	rc = sp_purl_parse(buf, a, &p, err, sizeof(err));
	report(rc == 0 && strlen(p->name) == SP_PURL_MAX_LEN - 12,
		   "purl of exactly %d bytes parses", SP_PURL_MAX_LEN);

	buf[SP_PURL_MAX_LEN] = 'a';
	buf[SP_PURL_MAX_LEN + 1] = '\0';
	rc = sp_purl_parse(buf, a, &p, err, sizeof(err));
	report(rc == -1 && strstr(err, "longer than 8192 bytes at offset 8192"),
		   "purl one byte over the limit is refused");
	if (rc == 0)
		diag("no error");
	else if (!strstr(err, "longer than"))
		diag("message: %s", err);
	/* Short input whose escaped canonical form would pass the limit. */
	memcpy(buf, "pkg:generic/", 12);
	memset(buf + 12, ' ', 3000);
	buf[3012] = '\0';
	rc = sp_purl_parse(buf, a, &p, err, sizeof(err));
	report(rc == -1 && strstr(err, "canonical form of purl would be longer"),
		   "purl whose canonical form would be too long is refused");
	buf[2012] = '\0';
	rc = sp_purl_parse(buf, a, &p, err, sizeof(err));
	report(rc == 0 && strlen(sp_purl_canonical(p, a)) == 12 + 3 * 2000,
		   "escaped canonical form below the limit is accepted");
	free(buf);
	sp_arena_destroy(a);
}

/* Block allocator for the arena that fails after a budget of blocks. */
static int	alloc_budget;

static void *
budget_alloc(size_t size)
{
	if (alloc_budget <= 0)
		return NULL;
	alloc_budget--;
	return malloc(size);
}

/* Arena exhaustion is reported, never a crash. */
static void
test_out_of_memory(void)
{
	char	   *buf = malloc(SP_PURL_MAX_LEN + 1);
	SpArena    *a;
	SpPurl	   *p;
	char		err[256];
	int			rc;
	bool		all_ok = true;

	/* Many one-byte segments: the decode buffers outgrow the first block. */
	memcpy(buf, "pkg:generic/", 12);
	for (int i = 12; i < SP_PURL_MAX_LEN - 2; i += 2)
		memcpy(buf + i, "a/", 2);
	memcpy(buf + SP_PURL_MAX_LEN - 2, "zz", 2);
	buf[SP_PURL_MAX_LEN] = '\0';

	alloc_budget = 2;			/* the arena itself and its first block */
	a = sp_arena_create_with(budget_alloc, free);
	rc = sp_purl_parse(buf, a, &p, err, sizeof(err));
	report(rc == -1 && strstr(err, "out of memory") != NULL,
		   "arena exhaustion during parse is reported");
	sp_arena_destroy(a);

	/* Each budget either succeeds or fails cleanly. */
	for (int budget = 1; budget < 6; budget++)
	{
		alloc_budget = budget;
		a = sp_arena_create_with(budget_alloc, free);
		rc = sp_purl_parse(buf, a, &p, err, sizeof(err));
		if (rc < 0 && strstr(err, "out of memory") == NULL)
			all_ok = false;
		sp_arena_destroy(a);
	}
	report(all_ok, "every allocation budget fails cleanly or parses");

	/* Printing into an exhausted arena returns NULL. */
	{
		SpArena    *good = sp_arena_create();

		rc = sp_purl_parse("pkg:generic/a@1", good, &p, err, sizeof(err));
		alloc_budget = 1;
		a = sp_arena_create_with(budget_alloc, free);
		report(rc == 0 && sp_purl_canonical(p, a) == NULL &&
			   sp_purl_base(p, false, a) == NULL,
			   "canonical into an exhausted arena is NULL");
		sp_arena_destroy(a);
		sp_arena_destroy(good);
	}
	free(buf);
}

/* Read a whole file into a malloc'd, NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		size;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(size + 1);
	if (buf == NULL || fread(buf, 1, size, f) != (size_t) size)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[size] = '\0';
	fclose(f);
	*len = size;
	return buf;
}

/* Append one code point as UTF-8. */
static size_t
put_utf8(char *w, unsigned int cp)
{
	if (cp < 0x80)
	{
		w[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		w[0] = (char) (0xC0 | (cp >> 6));
		w[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	w[0] = (char) (0xE0 | (cp >> 12));
	w[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
	w[2] = (char) (0x80 | (cp & 0x3F));
	return 3;
}

typedef struct CorpusStats
{
	int			files;
	long		purls;
	long		failures;
} CorpusStats;

/* Parse and round-trip one purl found in a corpus file. */
static void
check_corpus_purl(const char *purl, const char *file, long *count,
				  long *bad)
{
	SpArena    *a = sp_arena_create();
	char		err[256];
	bool		stable;
	const char *canon = round_trip(purl, a, err, sizeof(err), &stable);

	(*count)++;
	if (canon == NULL || !stable)
	{
		(*bad)++;
		if (*bad <= 5)
			diag("%s: %s: %s", file, purl,
				 canon == NULL ? err : "canonical form not stable");
	}
	sp_arena_destroy(a);
}

/*
 * Every JSON string and every CSV field of a file that starts with "pkg:"
 * is taken as a purl.  JSON escapes are undone first (the SBOMs write '&'
 * as \u0026).
 */
static void
check_corpus_file(const char *path, const char *rel, CorpusStats *st)
{
	size_t		len;
	char	   *text = read_file(path, &len);
	bool		csv = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".csv") == 0;
	long		count = 0;
	long		bad = 0;
	char	   *purl;

	if (text == NULL)
	{
		report(false, "corpus %s: readable", rel);
		return;
	}
	purl = malloc(len + 1);

	for (size_t i = 0; i + 4 < len; i++)
	{
		size_t		n = 0;
		size_t		j;

		if (strncmp(text + i, "pkg:", 4) != 0)
			continue;
		if (i > 0 && text[i - 1] == '"')
		{
			/* A JSON (or quoted CSV) string: read up to the closing quote. */
			for (j = i; j < len && text[j] != '"'; j++)
			{
				if (text[j] == '\\' && j + 1 < len)
				{
					char		e = text[++j];

					if (e == 'u' && j + 4 < len)
					{
						char		hex[5];
						unsigned int cp;

						memcpy(hex, text + j + 1, 4);
						hex[4] = '\0';
						cp = (unsigned int) strtoul(hex, NULL, 16);

						n += put_utf8(purl + n, cp);
						j += 4;
					}
					else
						purl[n++] = (e == 'n') ? '\n' : (e == 't') ? '\t' : e;
				}
				else
					purl[n++] = text[j];
			}
		}
		else if (csv && (i == 0 || text[i - 1] == ',' || text[i - 1] == '\n'))
		{
			for (j = i; j < len && text[j] != ',' && text[j] != '\n' &&
				 text[j] != '\r'; j++)
				purl[n++] = text[j];
		}
		else
			continue;

		purl[n] = '\0';
		check_corpus_purl(purl, rel, &count, &bad);
		i = j;
	}

	if (count > 0)
	{
		st->files++;
		st->purls += count;
		st->failures += bad;
		report(bad == 0, "corpus %s: %ld purls parse and round-trip", rel,
			   count);
	}
	free(purl);
	free(text);
}

/* Walk a corpus directory recursively, in name order for stable output. */
static void
walk_corpus(const char *root, const char *rel, CorpusStats *st)
{
	char		path[4096];
	struct dirent **list;
	int			n;

	snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
	n = scandir(path, &list, NULL, alphasort);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++)
	{
		const char *nm = list[i]->d_name;
		char		child_rel[4096];
		char		child[8192];
		struct stat sb;
		size_t		nl = strlen(nm);

		if (nm[0] == '.')
		{
			free(list[i]);
			continue;
		}
		snprintf(child_rel, sizeof(child_rel), "%s%s%s", rel,
				 rel[0] ? "/" : "", nm);
		snprintf(child, sizeof(child), "%s/%s", root, child_rel);
		if (stat(child, &sb) == 0 && S_ISDIR(sb.st_mode))
			walk_corpus(root, child_rel, st);
		else if ((nl > 5 && strcmp(nm + nl - 5, ".json") == 0) ||
				 (nl > 4 && strcmp(nm + nl - 4, ".csv") == 0))
			check_corpus_file(child, child_rel, st);
		free(list[i]);
	}
	free(list);
}

/* Every purl in the shared corpus parses and round-trips. */
static void
test_corpus(void)
{
	const char *root = getenv("SP_CORPUS");
	CorpusStats st = {0, 0, 0};

	if (root == NULL || root[0] == '\0')
		root = "../shared/corpus";
	walk_corpus(root, "", &st);

	/* Guard against a wrong path silently testing nothing. */
	report(st.files >= 20 && st.purls >= 1000,
		   "corpus at %s: %d files with %ld purls (want >= 20 files, >= 1000 purls)",
		   root, st.files, st.purls);
	report(st.failures == 0, "corpus: no purl fails (%ld failures)",
		   st.failures);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
		run_parse_case(&parse_cases[i]);
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
		run_error_case(&error_cases[i]);
	test_lookup_and_base();
	test_error_buffer();
	test_length_limit();
	test_out_of_memory();
	test_corpus();

	printf("1..%d\n", test_count);
	if (fail_count > 0)
		diag("%d of %d tests failed", fail_count, test_count);
	return fail_count > 0 ? 1 : 0;
}
