/* Page templates and JSON strings: what a client sees of any value is escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "static_assets.h"
#include "template.h"

static void test_placeholders_are_html_escaped(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    const char tmpl[] = "<p>{{message}}</p><i>{{missing}}</i>{{ id }}{{id}}";
    gw_template_var_t vars[] = {{"message", "<script>alert('x') & \"y\"</script>"}, {"id", "42"}};
    h2o_iovec_t out = gw_template_render(&pool, tmpl, strlen(tmpl), vars, 2);
    assert_string_equal(out.base,
                        "<p>&lt;script&gt;alert(&#39;x&#39;) &amp; &#34;y&#34;&lt;/script&gt;</p><i></i>42");
    assert_int_equal(out.len, strlen(out.base));
    h2o_mem_clear_pool(&pool);
}

static void test_unterminated_placeholder_is_literal(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    const char tmpl[] = "a {{b";
    h2o_iovec_t out = gw_template_render(&pool, tmpl, strlen(tmpl), NULL, 0);
    assert_string_equal(out.base, "a {{b");
    h2o_mem_clear_pool(&pool);
}

static void test_json_escape(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(gw_json_escape(out, "a\"b\\c\n\x01"), strlen("a\\\"b\\\\c\\u000a\\u0001"));
    assert_string_equal(out, "a\\\"b\\\\c\\u000a\\u0001");
}

static void test_error_page_is_embedded(void **state)
{
    (void)state;
    const gw_static_asset_t *page = gw_static_asset_find("error.html");
    assert_non_null(page);
    assert_int_equal(page->size, strlen(page->data));
    assert_non_null(strstr(page->data, "{{request_id}}"));
    assert_null(gw_static_asset_find("../error.html"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholders_are_html_escaped),
        cmocka_unit_test(test_unterminated_placeholder_is_literal),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_error_page_is_embedded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
